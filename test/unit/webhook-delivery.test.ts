import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { Webhook } from 'standardwebhooks';
import { pollUntil, registryValue, testWebhookEvent, useWebhookTestRedis } from '../helpers/webhook-fixture.js';
import { startWebhookReceiver } from '../helpers/webhook-receiver.js';
import { WebhookQueue } from '../../src/webhooks/webhook-queue.js';
import { WebhookWorker } from '../../src/webhooks/webhook-worker.js';
import { generateWebhookSecret } from '../../src/webhooks/webhook-secret.js';
import { listDeadLetters, replayDeadLetters } from '../../src/webhooks/dead-letters.js';
import { webhookJobId } from '../../src/webhooks/webhook-job.js';

const SECRET = generateWebhookSecret();
const fx = useWebhookTestRedis();
let seq = 0;


/**
 * A producer and a worker on their own prefix (isolated from other tests), wired the way the daemon
 * does it (fromConfig): the worker on a caller-owned ioredis client, the queue on connection options.
 */
async function pipeline(opts: { maxAttempts: number; timeoutMs?: number }) {
  const prefix = `{rp${seq++}}`;
  const registry = new Registry();
  const config = {
    webhooks: { defaultUrl: undefined, secrets: [SECRET], maxAttempts: opts.maxAttempts, timeoutMs: opts.timeoutMs ?? 2000, directFirstAttempt: true,
      allowPrivateTargets: ['127.0.0.0/8'],
    },
    redis: { url: fx.redis.url, keyPrefix: prefix, embeddedBinary: 'redis-server', appendfsync: 'everysec' as const, maxmemoryMb: 0, memoryHighWaterPercent: 90, waitReplicas: 0, waitTimeoutMs: 1000 },
  };
  const workerConn = new Redis(fx.redis.url, { maxRetriesPerRequest: null });
  const queue = WebhookQueue.fromConfig(config, { host: '127.0.0.1', port: fx.redis.port }, { backoffMs: 40, backoffJitter: 0 });
  const worker = WebhookWorker.fromConfig(config, { connection: workerConn, registry, version: '9.9.9-test', concurrency: 4 });
  fx.cleanups.push(async () => {
    await worker.close();
    await queue.close();
    workerConn.disconnect();
  });
  await worker.waitUntilReady();
  return { prefix, registry, queue, worker };
}



describe('webhook delivery through BullMQ', () => {
  it('delivers a signed POST with the Standard Webhooks headers and records metrics', async () => {
    const rx = await startWebhookReceiver();
    fx.cleanups.push(() => rx.close());
    const { queue, registry } = await pipeline({ maxAttempts: 3 });
    const callAt = Date.now() - 20.5; // INVITE "arrived" 20 ms ago
    const ev = testWebhookEvent({}, callAt);
    await queue.emit(ev, rx.url);

    const [got] = await rx.waitFor(1, 10_000);
    expect(got!.method).toBe('POST');
    expect(got!.path).toBe('/webhook');
    expect(got!.headers['content-type']).toBe('application/json');
    expect(got!.headers['user-agent']).toBe('ringproof/9.9.9-test');
    expect(got!.headers['webhook-id']).toBe(ev.id);
    const ts = Number(got!.headers['webhook-timestamp']);
    expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(5);
    expect(JSON.parse(got!.body)).toEqual(ev);
    const verified = new Webhook(SECRET).verify(got!.body, got!.headers as Record<string, string>);
    expect(verified).toEqual(ev);

    await pollUntil(async () => (await registryValue(registry, 'ringproof_webhook_deliveries_total', { type: ev.type, result: 'success' })) === 1, 5000, 'success counter');
    const hist = await registry.getSingleMetric('ringproof_invite_to_webhook_seconds')!.get();
    const count = hist.values.find((v) => (v as { metricName?: string }).metricName === 'ringproof_invite_to_webhook_seconds_count');
    const sum = hist.values.find((v) => (v as { metricName?: string }).metricName === 'ringproof_invite_to_webhook_seconds_sum');
    expect(count?.value).toBe(1);
    expect(sum!.value).toBeGreaterThanOrEqual(0.02);
    expect(sum!.value).toBeLessThan(10);
    const rtt = await registry.getSingleMetric('ringproof_webhook_delivery_seconds')!.get();
    expect(rtt.values.some((v) => (v as { metricName?: string }).metricName?.endsWith('_count') && v.labels.status_class === '2xx' && v.value === 1)).toBe(true);
  });

  it('an expired event is delivered but not counted as INVITE→webhook latency', async () => {
    const rx = await startWebhookReceiver();
    fx.cleanups.push(() => rx.close());
    const { queue, registry } = await pipeline({ maxAttempts: 1 });
    const ev = testWebhookEvent({ type: 'verification.expired' }, Date.now());
    await queue.emit(ev, rx.url);
    await rx.waitFor(1);
    await pollUntil(async () => (await registryValue(registry, 'ringproof_webhook_deliveries_total', { type: 'verification.expired', result: 'success' })) === 1, 5000, 'success');
    const hist = await registry.getSingleMetric('ringproof_invite_to_webhook_seconds')!.get();
    expect(hist.values.find((v) => (v as { metricName?: string }).metricName?.endsWith('_count'))?.value ?? 0).toBe(0);
  });

  it('emitting the same event twice enqueues it once (job id from event id, ":" allowed)', async () => {
    const rx = await startWebhookReceiver({ delayMs: 50 });
    fx.cleanups.push(() => rx.close());
    const { queue } = await pipeline({ maxAttempts: 2 });
    const ev = testWebhookEvent({ id: `evt:with:colons:${seq++}` });
    await queue.emit(ev, rx.url);
    await queue.emit(ev, rx.url);
    await rx.waitFor(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.received).toHaveLength(1);
    expect(rx.received[0]!.headers['webhook-id']).toBe(ev.id);
    expect(await queue.queue.getJob(webhookJobId(ev.id))).toBeTruthy();
  });

  it('retries after two failures, then succeeds; same webhook-id, fresh signature each time', async () => {
    const rx = await startWebhookReceiver({ failFirst: 2, failStatus: 503 });
    fx.cleanups.push(() => rx.close());
    const { queue, registry, prefix } = await pipeline({ maxAttempts: 5 });
    const ev = testWebhookEvent();
    await queue.emit(ev, rx.url);
    const got = await rx.waitFor(3, 10_000);
    expect(got.map((r) => r.status)).toEqual([503, 503, 200]);
    for (const r of got) {
      expect(r.headers['webhook-id']).toBe(ev.id);
      expect(new Webhook(SECRET).verify(r.body, r.headers as Record<string, string>)).toEqual(ev);
    }
    // Exponential backoff: the second gap (80 ms base*2) is not shorter than the first (40 ms).
    expect(got[1]!.receivedAt - got[0]!.receivedAt).toBeGreaterThanOrEqual(35);
    expect(got[2]!.receivedAt - got[1]!.receivedAt).toBeGreaterThanOrEqual(75);
    await pollUntil(async () => (await registryValue(registry, 'ringproof_webhook_deliveries_total', { result: 'success' })) === 1, 5000, 'success');
    expect(await registryValue(registry, 'ringproof_webhook_deliveries_total', { result: 'retry' })).toBe(2);
    expect(await registryValue(registry, 'ringproof_webhook_deliveries_total', { result: 'dead' })).toBe(0);
    expect(await fx.admin.llen(`${prefix}:webhooks:dead`)).toBe(0);
    // Everything BullMQ wrote lives under the hash-tagged prefix (one Cluster slot).
    const keys = await fx.admin.keys(`*`);
    const mine = keys.filter((k) => k.includes(':webhooks:') && k.startsWith(prefix));
    expect(mine.length).toBeGreaterThan(0);
  });

  it('dead-letters after maxAttempts failures, then replay delivers it with the same webhook-id', async () => {
    const rx = await startWebhookReceiver({ failFirst: 3, failStatus: 500 });
    fx.cleanups.push(() => rx.close());
    const { queue, registry, prefix } = await pipeline({ maxAttempts: 3 });
    const ev = testWebhookEvent();
    await queue.emit(ev, rx.url);
    await rx.waitFor(3, 10_000);
    await pollUntil(async () => (await fx.admin.llen(`${prefix}:webhooks:dead`)) === 1, 5000, 'dead letter');
    // The worker writes the dead letter, then counts it: wait for the count too.
    await pollUntil(async () => (await registryValue(registry, 'ringproof_webhook_deliveries_total', { result: 'dead' })) === 1, 5000, 'dead counted');
    expect(await registryValue(registry, 'ringproof_webhook_deliveries_total', { result: 'retry' })).toBe(2);
    expect(await registryValue(registry, 'ringproof_webhook_dead_letters')).toBe(1);
    const job = await queue.queue.getJob(webhookJobId(ev.id));
    expect(await job!.getState()).toBe('failed');

    const [entry] = await listDeadLetters(fx.admin, prefix, 10);
    expect(entry!.index).toBe(0);
    expect(entry!.record).toMatchObject({ event: ev, url: rx.url, attempts: 3, lastError: 'HTTP 500: status 500' });
    expect(Date.parse(entry!.record!.failedAt)).toBeGreaterThan(Date.now() - 60_000);

    // The receiver is healthy now (it only failed the first 3); replay with a fresh budget.
    const res = await replayDeadLetters(fx.admin, prefix, 0, { maxAttempts: 2, backoffMs: 40 });
    expect(res).toEqual({ replayed: [ev.id], skipped: [] });
    const got = await rx.waitFor(4, 10_000);
    expect(got[3]!.status).toBe(200);
    expect(got[3]!.headers['webhook-id']).toBe(ev.id);
    expect(new Webhook(SECRET).verify(got[3]!.body, got[3]!.headers as Record<string, string>)).toEqual(ev);
    expect(await fx.admin.llen(`${prefix}:webhooks:dead`)).toBe(0);
    expect(await registryValue(registry, 'ringproof_webhook_dead_letters')).toBe(0);
    await pollUntil(async () => (await registryValue(registry, 'ringproof_webhook_deliveries_total', { result: 'success' })) === 1, 5000, 'success');
    // The shared admin connection survives the temporary queue used by replay.
    expect(await fx.admin.ping()).toBe('PONG');
  });

  it('does not follow a redirect: the 3xx is a failure and the other server never hears of it', async () => {
    const elsewhere = await startWebhookReceiver();
    const rx = await startWebhookReceiver({ status: 302, headers: { location: elsewhere.url } });
    fx.cleanups.push(() => rx.close(), () => elsewhere.close());
    const { queue, prefix, registry } = await pipeline({ maxAttempts: 2 });
    const ev = testWebhookEvent();
    await queue.emit(ev, rx.url);
    await rx.waitFor(2, 10_000);
    await pollUntil(async () => (await fx.admin.llen(`${prefix}:webhooks:dead`)) === 1, 5000, 'dead letter');
    const [entry] = await listDeadLetters(fx.admin, prefix, 1);
    expect(entry!.record!.lastError).toBe('HTTP 302 (redirect not followed)');
    expect(elsewhere.received).toHaveLength(0);
    const rtt = await registry.getSingleMetric('ringproof_webhook_delivery_seconds')!.get();
    expect(rtt.values.some((v) => v.labels.status_class === '3xx' && (v as { metricName?: string }).metricName?.endsWith('_count') && v.value === 2)).toBe(true);
  });

  it('a receiver slower than timeoutMs counts as a failed attempt', async () => {
    const rx = await startWebhookReceiver({ delayMs: 1500 });
    fx.cleanups.push(() => rx.close());
    const { queue, prefix } = await pipeline({ maxAttempts: 1, timeoutMs: 200 });
    const ev = testWebhookEvent();
    const t0 = Date.now();
    await queue.emit(ev, rx.url);
    await pollUntil(async () => (await fx.admin.llen(`${prefix}:webhooks:dead`)) === 1, 5000, 'dead letter');
    expect(Date.now() - t0).toBeLessThan(1400);
    const [entry] = await listDeadLetters(fx.admin, prefix, 1);
    expect(entry!.record!.lastError).toBe('timeout after 200 ms');
  });

  it('an unusable callback URL is dead-lettered at once, without spending its retries', async () => {
    const { queue, prefix, registry } = await pipeline({ maxAttempts: 5 });
    const ev = testWebhookEvent();
    await queue.emit(ev, 'ftp://127.0.0.1/x');
    await pollUntil(async () => (await fx.admin.llen(`${prefix}:webhooks:dead`)) === 1, 5000, 'dead letter');
    const [entry] = await listDeadLetters(fx.admin, prefix, 1);
    expect(entry!.record).toMatchObject({ attempts: 1, lastError: 'unsupported URL scheme ftp:' });
    expect(await registryValue(registry, 'ringproof_webhook_deliveries_total', { result: 'retry' })).toBe(0);
  });
});
