import type { LookupFunction } from 'node:net';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEgressPolicy, type EgressPolicy } from '../../src/egress/index.js';
import { listDeadLetters } from '../../src/webhooks/dead-letters.js';
import { DirectFirstEmitter } from '../../src/webhooks/direct-first-emitter.js';
import { WebhookSigner } from '../../src/webhooks/sign.js';
import { WEBHOOK_EGRESS_KEY } from '../../src/webhooks/webhook-egress.js';
import { createWebhookMetrics } from '../../src/webhooks/webhook-metrics.js';
import { WebhookQueue } from '../../src/webhooks/webhook-queue.js';
import { generateWebhookSecret } from '../../src/webhooks/webhook-secret.js';
import { WebhookWorker } from '../../src/webhooks/webhook-worker.js';
import { pollUntil, registryValue, testWebhookEvent, useWebhookTestRedis } from '../helpers/webhook-fixture.js';
import { tableResolver } from '../helpers/table-resolver.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { startApiHarness, type ApiHarness } from '../helpers/api-harness.js';

const SECRET = generateWebhookSecret();
const REFUSED = 'ringproof_egress_refused_total';
const fx = useWebhookTestRedis();
let seq = 0;




/** Queue + worker + direct emitter on their own prefix, wired as the daemon wires them, with `policy` and `resolve`. */
async function pipeline(policy: EgressPolicy, resolve: LookupFunction) {
  const prefix = `{rpeg${seq++}}`;
  const registry = new Registry();
  const conn = new Redis(fx.redis.url, { maxRetriesPerRequest: null });
  const queue = new WebhookQueue({ connection: conn, prefix, maxAttempts: 3, backoffMs: 40, backoffJitter: 0 });
  const worker = new WebhookWorker({
    connection: conn, prefix, signer: new WebhookSigner([SECRET]), egressPolicy: policy, resolve, timeoutMs: 2000,
    version: '9.9.9-test', registry, concurrency: 2,
  });
  const direct = new DirectFirstEmitter({
    fallback: queue, signer: new WebhookSigner([SECRET]), egressPolicy: policy, resolve, metrics: createWebhookMetrics(registry),
    version: '9.9.9-test', timeoutMs: 1000,
  });
  fx.cleanups.push(async () => {
    direct.close();
    await worker.close();
    await queue.close();
    conn.disconnect();
  });
  await worker.waitUntilReady();
  return { prefix, registry, queue, direct };
}

async function receiver(host?: string): Promise<WebhookReceiver> {
  // Connection: close, so each delivery resolves the name afresh (a kept-alive socket would not).
  const rx = await startWebhookReceiver({ ...(host ? { host } : {}), headers: { connection: 'close' } });
  fx.cleanups.push(() => rx.close());
  return rx;
}

describe('webhook delivery: the address connected to is checked', () => {
  it('a receiver name that rebinds to 127.0.0.1 after a first delivery is refused, dead-lettered at once with the reason, and counted', async () => {
    // 127.0.0.2 plays the app's own (allowed) address; 127.0.0.1 is "inside" and not allowed.
    const app = await receiver('127.0.0.2');
    const inside = await receiver('127.0.0.1');
    const policy = createEgressPolicy({ allowPrivateTargets: ['127.0.0.2/32'], configKey: WEBHOOK_EGRESS_KEY });
    const resolve = tableResolver({ 'hooks.app.test': ['127.0.0.2', '127.0.0.1'] });
    const { prefix, registry, queue } = await pipeline(policy, resolve);

    const first = testWebhookEvent({}, Date.now());
    await queue.emit(first, `http://hooks.app.test:${app.port}/webhook`);
    await app.waitFor(1);
    expect(JSON.parse(app.received[0]!.body).id).toBe(first.id);

    const second = testWebhookEvent({}, Date.now());
    await queue.emit(second, `http://hooks.app.test:${inside.port}/webhook`);
    await pollUntil(async () => (await listDeadLetters(fx.admin, prefix, 10)).length === 1, 10_000, 'dead letter');
    const [entry] = await listDeadLetters(fx.admin, prefix, 10);
    expect(entry!.record!.event.id).toBe(second.id);
    // Permanent: no retries spent on a destination that will be refused every time.
    expect(entry!.record!.attempts).toBe(1);
    expect(entry!.record!.lastError).toBe(
      'refused: hooks.app.test resolves to 127.0.0.1, a loopback address (allow it with webhooks.allowPrivateTargets)',
    );
    expect(inside.received).toHaveLength(0);
    expect(await registryValue(registry, REFUSED, { purpose: 'webhook', stage: 'connect', reason: 'loopback' })).toBe(1);
    // A refused attempt made no round trip: it is not timed as one.
    const rtt = await registry.getSingleMetric('ringproof_webhook_delivery_seconds')!.get();
    const timed = rtt.values.filter((v) => (v as { metricName?: string }).metricName?.endsWith('_count')).reduce((a, v) => a + v.value, 0);
    expect(timed).toBe(1);
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data', 'link-local'],
    ['http://10.0.0.1/hook', 'private'],
    ['http://[::ffff:127.0.0.1]:{port}/webhook', 'loopback'],
    ['http://0x7f000001:{port}/webhook', 'loopback'],
  ])('the direct attempt and the queue both refuse %s (a URL stored before the rule); the receiver hears nothing', async (template, reason) => {
    const rx = await receiver();
    const { prefix, registry, direct } = await pipeline(createEgressPolicy({ configKey: WEBHOOK_EGRESS_KEY }), tableResolver({}));
    const url = template.replace('{port}', String(rx.port));
    await direct.emit(testWebhookEvent({}, Date.now()), url);
    await pollUntil(async () => (await listDeadLetters(fx.admin, prefix, 10)).length === 1, 10_000, 'dead letter');
    const [entry] = await listDeadLetters(fx.admin, prefix, 10);
    expect(entry!.record!.lastError).toMatch(new RegExp(`^refused: .*, an? [^,]*${reason === 'private' ? 'private-network' : reason}`));
    expect(rx.received).toHaveLength(0);
    // One refusal per attempt: the direct one, then the queue's.
    expect(await registryValue(registry, REFUSED, { purpose: 'webhook', stage: 'connect', reason })).toBe(2);
  });

  it('an allowlisted private receiver gets its webhook, signed as usual', async () => {
    const app = await receiver('127.0.0.2');
    const policy = createEgressPolicy({ allowPrivateTargets: ['127.0.0.0/8'], configKey: WEBHOOK_EGRESS_KEY });
    const { registry, direct } = await pipeline(policy, tableResolver({ 'private-app.test': ['127.0.0.2'] }));
    const ev = testWebhookEvent({}, Date.now());
    await direct.emit(ev, `http://private-app.test:${app.port}/webhook`);
    const [got] = await app.waitFor(1);
    expect(JSON.parse(got!.body).id).toBe(ev.id);
    expect(got!.headers['webhook-signature']).toMatch(/^v1,/);
    expect(await registryValue(registry, REFUSED, {})).toBe(0);
  });
});

describe('callbackUrl at creation (real API server, webhooks.allowPrivateTargets empty)', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApiHarness(fx.redis, { allowPrivateTargets: [] });
  });
  afterAll(async () => {
    await api?.close();
  });

  async function create(callbackUrl: string): Promise<{ status: number; body: any }> {
    const res = await fetch(`${api.baseUrl}/v1/verifications`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phoneNumber: '+12025550123', callbackUrl }), signal: AbortSignal.timeout(5000),
    });
    return { status: res.status, body: await res.json() };
  }

  it.each([
    ['https://169.254.169.254/latest/meta-data', 'link-local', '169.254.169.254, a link-local address'],
    ['https://10.0.0.1/hook', 'private', '10.0.0.1, a private-network address'],
    ['https://[::ffff:127.0.0.1]/h', 'loopback', '::ffff:7f00:1, a loopback address'],
    ['https://0x7f000001/h', 'loopback', '127.0.0.1, a loopback address'],
    ['https://100.64.1.1/h', 'cgnat', '100.64.1.1, a carrier-grade NAT (100.64.0.0/10) address'],
    ['https://[fd00::1]/h', 'private', 'fd00::1, a private-network address'],
    ['https://[fe80::1]/h', 'link-local', 'fe80::1, a link-local address'],
    ['https://localhost./h', 'loopback', 'localhost. resolves to 127.0.0.1, a loopback address'],
    ['http://127.0.0.1:8080/h', 'loopback', '127.0.0.1, a loopback address'],
  ])('refuses %s with a 400 naming callbackUrl, counted as %s', async (url, reason, what) => {
    const before = await registryValue(api.registry, REFUSED, { purpose: 'webhook', stage: 'create', reason });
    const res = await create(url);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: {
        code: 'RP_API_VALIDATION', field: 'callbackUrl',
        message: `body/callbackUrl must not point at ${what} (allow it with webhooks.allowPrivateTargets)`,
      },
    });
    expect(await registryValue(api.registry, REFUSED, { purpose: 'webhook', stage: 'create', reason })).toBe(before + 1);
  });

  it('a multicast literal is refused with no hint to allow it (it never can be)', async () => {
    const res = await create('https://224.0.0.1/h');
    expect(res.body.error.message).toBe('body/callbackUrl must not point at 224.0.0.1, a multicast address');
  });

  it('accepts a public name: what it resolves to is judged at each delivery', async () => {
    const res = await create('https://hooks.example.com/ringproof');
    expect(res.status).toBe(201);
    expect(res.body.callbackUrl).toBe('https://hooks.example.com/ringproof');
  });
});
