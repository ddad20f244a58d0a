import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { Webhook } from 'standardwebhooks';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';
import { startWebhookReceiver } from '../helpers/webhook-receiver.js';
import { pollUntil, testWebhookEvent } from '../helpers/webhook-fixture.js';
import { freePort } from '../helpers/free-port.js';
import { DirectFirstEmitter, HANDOVER_MARGIN_MS } from '../../src/webhooks/direct-first-emitter.js';
import { WebhookQueue } from '../../src/webhooks/webhook-queue.js';
import { WebhookWorker } from '../../src/webhooks/webhook-worker.js';
import { WebhookSigner } from '../../src/webhooks/sign.js';
import { createWebhookMetrics } from '../../src/webhooks/webhook-metrics.js';
import { generateWebhookSecret } from '../../src/webhooks/webhook-secret.js';
import { listDeadLetters } from '../../src/webhooks/dead-letters.js';
import { webhookJobId } from '../../src/webhooks/webhook-job.js';
import type { WebhookEvent } from '../../src/verify/verification-types.js';
import { createEgressPolicy } from '../../src/egress/egress-policy.js';

const SECRET = generateWebhookSecret();
/** The receivers run on loopback. */
const LOOPBACK_OK = createEgressPolicy({ allowPrivateTargets: ['127.0.0.0/8'] });
let redis: TestRedis;
let seq = 0;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  redis = await startTestRedis({ appendonly: false });
});
afterAll(async () => {
  await stopAndClean(redis);
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const event = (callReceivedAt = Date.now() - 10): WebhookEvent => testWebhookEvent({}, callReceivedAt);

/** The daemon's wiring: queue + webhook worker (optional) + direct emitter sharing one registry. */
async function setup(opts: { maxAttempts: number; directTimeoutMs?: number; waitMs?: number; worker?: boolean }) {
  const prefix = `{rpd${seq++}}`;
  const registry = new Registry();
  const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new WebhookQueue({ connection: conn, prefix, maxAttempts: opts.maxAttempts, backoffMs: 40, backoffJitter: 0 });
  const worker = opts.worker === false ? undefined : new WebhookWorker({
    connection: conn, prefix, signer: new WebhookSigner([SECRET]), egressPolicy: LOOPBACK_OK, timeoutMs: 2000, version: '9.9.9-test', registry, concurrency: 4,
  });
  // Registered after the worker's: the same metric objects, not a second registration.
  const metrics = createWebhookMetrics(registry);
  const delivered: string[] = [];
  const direct = new DirectFirstEmitter({
    fallback: queue, signer: new WebhookSigner([SECRET]), egressPolicy: LOOPBACK_OK, metrics, version: '9.9.9-test',
    timeoutMs: opts.directTimeoutMs ?? 1000, ...(opts.waitMs !== undefined ? { waitMs: opts.waitMs } : {}),
    bypassMs: 60_000, onDelivered: (id) => delivered.push(id),
  });
  cleanups.push(async () => {
    direct.close();
    await worker?.close();
    await queue.close();
    conn.disconnect();
  });
  await worker?.waitUntilReady();
  return { prefix, registry, queue, worker, direct, conn, delivered };
}

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) throw new Error(`no metric ${name}`);
  const data = await m.get();
  const v = data.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

async function histogramCount(registry: Registry, name: string): Promise<number> {
  const data = await registry.getSingleMetric(name)!.get();
  return data.values.filter((x) => (x as { metricName?: string }).metricName === `${name}_count`).reduce((a, x) => a + x.value, 0);
}

describe('DirectFirstEmitter', () => {
  it('POSTs a signed event itself when the receiver answers 2xx: no queue job, metrics counted once', async () => {
    const rx = await startWebhookReceiver();
    cleanups.push(() => rx.close());
    const { direct, queue, registry, delivered } = await setup({ maxAttempts: 3 });
    const ev = event();
    await direct.emit(ev, rx.url);
    // Delivered before emit resolved: the call worker marks notified only after this.
    expect(rx.received).toHaveLength(1);
    const got = rx.received[0]!;
    expect(got.headers['webhook-id']).toBe(ev.id);
    expect(got.headers['user-agent']).toBe('ringproof/9.9.9-test');
    expect(JSON.parse(got.body)).toEqual(ev);
    // Receivers verify it with the Standard Webhooks library, as for queued deliveries.
    expect(new Webhook(SECRET.slice('whsec_'.length)).verify(got.body, got.headers as Record<string, string>)).toEqual(ev);
    expect(await queue.queue.getJob(webhookJobId(ev.id))).toBeUndefined();
    expect(delivered).toEqual([ev.id]);
    expect(await metric(registry, 'ringproof_webhook_deliveries_total', { type: 'verification.verified', result: 'success' })).toBe(1);
    expect(await histogramCount(registry, 'ringproof_invite_to_webhook_seconds')).toBe(1);
    expect(await histogramCount(registry, 'ringproof_webhook_delivery_seconds')).toBe(1);
    await new Promise((r) => setTimeout(r, 200));
    expect(rx.received).toHaveLength(1);
  });

  it('a failed direct attempt goes through the queue (same webhook-id), and the URL is then bypassed', async () => {
    const rx = await startWebhookReceiver({ failFirst: 1, failStatus: 503 });
    cleanups.push(() => rx.close());
    const { direct, registry, delivered } = await setup({ maxAttempts: 3 });
    const ev = event();
    await direct.emit(ev, rx.url);
    const [first, second] = await rx.waitFor(2, 10_000);
    expect(first!.status).toBe(503);
    expect(delivered).toEqual([]); // the queue delivered it, not the direct attempt
    expect(second!.status).toBe(200);
    expect(second!.headers['webhook-id']).toBe(ev.id);
    expect(second!.body).toBe(first!.body);
    const successes = (): Promise<number> =>
      metric(registry, 'ringproof_webhook_deliveries_total', { type: 'verification.verified', result: 'success' });
    for (const deadline = Date.now() + 5000; (await successes()) < 1 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
    expect(await successes()).toBe(1);
    expect(await metric(registry, 'ringproof_webhook_deliveries_total', { type: 'verification.verified', result: 'retry' })).toBe(1);
    // Within the bypass window the next event skips the direct attempt: one POST, from the queue.
    const next = event();
    await direct.emit(next, rx.url);
    await rx.waitFor(3, 10_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(rx.received.filter((r) => r.headers['webhook-id'] === next.id)).toHaveLength(1);
    expect(await metric(registry, 'ringproof_webhook_deliveries_total', { type: 'verification.verified', result: 'retry' })).toBe(1);
    expect(await histogramCount(registry, 'ringproof_invite_to_webhook_seconds')).toBe(2);
  });

  it('a hanging receiver costs one short wait, then the event is queued, due after the attempt\'s own timeout', async () => {
    const rx = await startWebhookReceiver({ delayMs: 5000 });
    cleanups.push(() => rx.close());
    const { direct, queue, delivered } = await setup({ maxAttempts: 3, directTimeoutMs: 2000, waitMs: 150, worker: false });
    const ev = event();
    await direct.emit(ev, rx.url);
    expect(delivered).toEqual([]);
    const job = await queue.queue.getJob(webhookJobId(ev.id));
    expect(job?.data).toEqual({ event: ev, url: rx.url });
    // Not before the direct attempt can no longer succeed: timeoutMs - waitMs, plus the margin.
    expect(job?.opts.delay).toBe(2000 - 150 + HANDOVER_MARGIN_MS);
    expect(await job?.getState()).toBe('delayed');
  });

  it('a receiver slower than the wait but within timeoutMs gets the event once: its 2xx withdraws the queued copy', async () => {
    // The failover case: after a Redis stall the workers POST the backlog at once and a loaded
    // receiver answers late. Cutting the attempt at the wait and queueing it at once POSTed it twice.
    const rx = await startWebhookReceiver({ delayMs: 600 });
    cleanups.push(() => rx.close());
    const { direct, queue, registry, delivered } = await setup({ maxAttempts: 3, directTimeoutMs: 3000, waitMs: 100 });
    const ev = event();
    await direct.emit(ev, rx.url);
    expect(delivered).toEqual([]); // emit() returned before the answer: the event was handed over
    const successes = (): Promise<number> =>
      metric(registry, 'ringproof_webhook_deliveries_total', { type: 'verification.verified', result: 'success' });
    await pollUntil(async () => (await successes()) === 1 && (await queue.queue.getJob(webhookJobId(ev.id))) === undefined,
      10_000, 'the late 2xx and the withdrawal of the queued copy');
    expect(rx.received).toHaveLength(1);
    expect(rx.received[0]!.headers['webhook-id']).toBe(ev.id);
    expect(await metric(registry, 'ringproof_webhook_deliveries_total', { type: 'verification.verified', result: 'retry' })).toBe(0);
  });

  it('a receiver that does not answer within timeoutMs: the queued copy delivers the event once the attempt timed out', async () => {
    const rx = await startWebhookReceiver({ delayFirstMs: 5000 });
    cleanups.push(() => rx.close());
    const { direct, registry } = await setup({ maxAttempts: 3, directTimeoutMs: 400, waitMs: 100 });
    const ev = event();
    await direct.emit(ev, rx.url);
    const [first, second] = await rx.waitFor(2, 10_000);
    expect(second!.headers['webhook-id']).toBe(ev.id);
    expect(second!.body).toBe(first!.body);
    expect(second!.status).toBe(200);
    // The queue POSTed only after the direct attempt had given up.
    expect(await metric(registry, 'ringproof_webhook_deliveries_total', { type: 'verification.verified', result: 'retry' })).toBe(1);
    const successes = (): Promise<number> =>
      metric(registry, 'ringproof_webhook_deliveries_total', { type: 'verification.verified', result: 'success' });
    await pollUntil(async () => (await successes()) === 1, 10_000, 'the queued delivery');
  });

  it('a receiver that is down: the queue retries up to maxAttempts, then dead-letters the event', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/webhook`;
    const { direct, registry, conn, prefix } = await setup({ maxAttempts: 2 });
    const ev = event();
    await direct.emit(ev, url);
    const dead = (): Promise<number> =>
      metric(registry, 'ringproof_webhook_deliveries_total', { type: 'verification.verified', result: 'dead' });
    for (const deadline = Date.now() + 10_000; (await dead()) < 1 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
    expect(await dead()).toBe(1);
    // The direct attempt and the queue's first attempt failed and will retry; the second gave up.
    expect(await metric(registry, 'ringproof_webhook_deliveries_total', { type: 'verification.verified', result: 'retry' })).toBe(2);
    const letters = await listDeadLetters(conn, prefix);
    expect(letters.map((l) => ({ id: l.record?.event.id, attempts: l.record?.attempts }))).toEqual([{ id: ev.id, attempts: 2 }]);
  });
});
