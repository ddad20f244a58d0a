/**
 * The batch decision (one script run per edge batch) against a real redis-server: Call-ID dedupe in
 * bounded time buckets, evidence apart from noise, aggregates, and the Redis memory an unsolicited
 * call costs, measured with INFO / MEMORY USAGE.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';
import { RedisVerificationStore } from '../../src/verify/redis-verification-store.js';
import { CallWorker } from '../../src/verify/call-worker.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { createVerifyMetrics, type VerifyMetrics } from '../../src/verify/verify-metrics.js';
import { EXPIRY_QUEUE, type ExpiryJobData } from '../../src/verify/queue-names.js';
import type { CallEvent } from '../../src/edge/call-event.js';
import { testCallEvent } from '../helpers/call-event.js';
import type { WebhookEmitter, WebhookEvent } from '../../src/verify/verification-types.js';

const PREFIX = '{rpbatch}';
const DID = '+15550004000';

class CollectingEmitter implements WebhookEmitter {
  readonly sent: WebhookEvent[] = [];
  async emit(event: WebhookEvent): Promise<void> {
    this.sent.push(event);
  }
}

const callEvent = (over: Partial<CallEvent> = {}): CallEvent => testCallEvent(DID, over);

/** A random CLI per call, as a spoofing flood sends them. */
function floodEvent(i: number): CallEvent {
  const cli = `+4477${String(10_000_000 + ((i * 7919) % 89_999_999)).padStart(8, '0')}`;
  return callEvent({ cli, cliRaw: cli });
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

let server: TestRedis;
let redis: Redis;
let expiryQueue: Queue<ExpiryJobData>;
let store: RedisVerificationStore;
let emitter: CollectingEmitter;
let metrics: VerifyMetrics;
const workers: CallWorker[] = [];

function worker(opts: { clock?: () => number; dedupeWindowSeconds?: number; audit?: AuditLog } = {}): CallWorker {
  const w = new CallWorker({
    connection: redis, prefix: PREFIX, emitter, defaultWebhookUrl: 'http://127.0.0.1:9/cb', metrics,
    audit: opts.audit ?? new AuditLog({ redis, prefix: PREFIX }), autorun: false,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.dedupeWindowSeconds !== undefined ? { dedupeWindowSeconds: opts.dedupeWindowSeconds } : {}),
  });
  workers.push(w);
  return w;
}

beforeAll(async () => {
  server = await startTestRedis({ appendonly: false });
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
  expiryQueue = new Queue<ExpiryJobData>(EXPIRY_QUEUE, { connection: redis, prefix: PREFIX });
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  await expiryQueue.close();
  redis.disconnect();
  await stopAndClean(server);
});

beforeEach(async () => {
  await redis.flushall();
  metrics = createVerifyMetrics(new Registry());
  emitter = new CollectingEmitter();
  store = new RedisVerificationStore({ redis, prefix: PREFIX, dids: [DID], expiryQueue, metrics, audit: new AuditLog({ redis, prefix: PREFIX }) });
});

describe('batch decisions', () => {
  it('decides a batch in input order: the candidate verifies, the flood around it is noise', async () => {
    const { verification: v } = await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    const batch: CallEvent[] = [];
    for (let i = 0; i < 150; i++) batch.push(floodEvent(i));
    const candidate = callEvent();
    batch.splice(77, 0, candidate);
    batch.push({ hello: 'world' } as unknown as CallEvent, callEvent({ cli: null, cliRaw: null, cliOrigin: 'withheld' }));
    const audit = new AuditLog({ redis, prefix: PREFIX, settings: { noiseSampleEvery: 1 } });
    const results = await worker({ audit }).handleBatch(batch);
    expect(results).toHaveLength(153);
    expect(results[77]).toMatchObject({ outcome: 'verified', sessionId: v.id, emitted: true });
    expect(results.filter((r) => r.outcome === 'unsolicited')).toHaveLength(150);
    expect(results[151]).toMatchObject({ outcome: 'invalid', detail: 'malformed_event' });
    expect(results[152]).toMatchObject({ outcome: 'withheld' });
    expect(emitter.sent.map((e) => e.data.verification.id)).toEqual([v.id]);

    // Evidence: the session's events and its call only; the flood is in the capped noise trail and the aggregates.
    const evidence = await redis.xrange(`${PREFIX}:audit`, '-', '+');
    expect(evidence.map(([, f]) => f[1])).toEqual(['session.created', 'call', 'session.verified']);
    expect(await redis.xlen(`${PREFIX}:audit:calls`)).toBe(151);
    const minute = Math.floor(Date.now() / 60_000);
    const agg = await redis.hgetall(`${PREFIX}:agg:${minute}`).then(async (h) =>
      Object.keys(h).length > 0 ? h : redis.hgetall(`${PREFIX}:agg:${minute - 1}`));
    expect(agg).toEqual({ [`carrier-a|${DID}|unsolicited`]: '150', [`carrier-a|${DID}|withheld`]: '1' });
    // Top talkers: one call in 8 (by Call-ID), counted 8.
    const talkers = await redis.keys(`${PREFIX}:talk:*`);
    expect(talkers).toHaveLength(1);
    const scores = await redis.zrange(talkers[0]!, '0', '-1', 'WITHSCORES');
    expect(scores.length / 2).toBeGreaterThan(0);
    expect(scores.length / 2).toBeLessThan(150);
    for (let i = 1; i < scores.length; i += 2) expect(scores[i]).toBe('8');
    const m = await metrics.callOutcomes.get();
    const count = (o: string): number => m.values.find((x) => x.labels.outcome === o)?.value ?? 0;
    expect([count('verified'), count('unsolicited'), count('invalid'), count('withheld')]).toEqual([1, 150, 1, 1]);
  });

  it('top talkers: a CLI that calls again and again surfaces above a flood of one-off CLIs', async () => {
    const w = worker();
    const repeat = '+447700900555';
    const batch: CallEvent[] = [];
    for (let i = 0; i < 2000; i++) batch.push(floodEvent(i));
    for (let i = 0; i < 200; i++) batch.splice(i * 10, 0, callEvent({ cli: repeat, cliRaw: repeat }));
    await w.handleBatch(batch);
    const key = (await redis.keys(`${PREFIX}:talk:*`))[0]!;
    const [top, score] = await redis.zrevrange(key, 0, 0, 'WITHSCORES');
    expect(top).toBe(repeat);
    expect(Number(score)).toBeGreaterThan(100); // 200 calls, sampled 1 in 8 and counted 8
    expect(await redis.zcard(key)).toBeLessThanOrEqual(2 * 200);
  });

  it('dedupes by Call-ID inside a batch, across batches and across workers, within the window', async () => {
    const { verification: v } = await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    const candidate = callEvent();
    const noise = floodEvent(1);
    const first = await worker().handleBatch([candidate, noise, noise]);
    expect(first.map((r) => [r.outcome, r.firstOutcome])).toEqual([
      ['verified', undefined], ['unsolicited', undefined], ['duplicate', 'unsolicited'],
    ]);
    // Another worker, a resend of both calls: decided once, the webhook not emitted again.
    const again = await worker().handleBatch([noise, candidate]);
    expect(again).toEqual([
      { outcome: 'duplicate', firstOutcome: 'unsolicited', detail: 'no_session', emitted: false },
      { outcome: 'duplicate', firstOutcome: 'verified', sessionId: v.id, emitted: false },
    ]);
    expect(emitter.sent).toHaveLength(1);
  });

  it('past the dedupe window a resend is decided again, and a call that verified stays a duplicate', async () => {
    await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    let now = Date.now();
    const w = worker({ clock: () => now, dedupeWindowSeconds: 60 });
    const candidate = callEvent();
    const noise = floodEvent(2);
    await w.handleBatch([candidate, noise]);
    now += 59_000;
    expect((await w.handleBatch([noise]))[0]).toMatchObject({ outcome: 'duplicate' });
    now += 30_000; // 89 s after the first decision: its bucket is no longer searched
    const late = await w.handleBatch([noise, candidate]);
    expect(late[0]).toMatchObject({ outcome: 'unsolicited', detail: 'no_session' });
    expect(late[1]).toMatchObject({ outcome: 'duplicate', firstOutcome: 'verified', emitted: false });
    expect(emitter.sent).toHaveLength(1);
  });

  it('an unsolicited call leaves no state past the dedupe window: bytes per call measured with INFO and MEMORY USAGE', async () => {
    const audit = new AuditLog({ redis, prefix: PREFIX, settings: { noiseMaxEntries: 1000 } });
    // A short window (its minimum in config is 35 s) so the test can watch it pass.
    const w = worker({ audit, dedupeWindowSeconds: 2 });
    const before = await usedMemory(redis);
    const calls = 20_000;
    for (let start = 0; start < calls; start += 200) {
      await w.handleBatch(Array.from({ length: 200 }, (_, i) => floodEvent(start + i)));
    }
    const peak = await usedMemory(redis);
    const perCallPeak = (peak - before) / calls;
    const buckets = await redis.keys(`${PREFIX}:dd:*`);
    let dedupeBytes = 0;
    for (const k of buckets) dedupeBytes += Number(await redis.memory('USAGE', k));
    const dedupePerCall = dedupeBytes / calls;
    console.info(`unsolicited call: ${perCallPeak.toFixed(0)} B/call at peak (INFO used_memory), dedupe ${dedupePerCall.toFixed(0)} B/call (MEMORY USAGE)`);
    // Each call's dedupe field, while its window lasts: far from the ~2 KB per call of per-call keys.
    expect(dedupePerCall).toBeLessThan(120);
    expect(perCallPeak).toBeLessThan(400);
    expect(await redis.xlen(audit.noiseKey)).toBeLessThan(1000 + 200);

    // Past the window the dedupe buckets expire on their own; what stays is bounded whatever the
    // number of calls: the capped noise trail, this minute's counts, the capped top talkers.
    await expect.poll(async () => (await redis.keys(`${PREFIX}:dd:*`)).length, { timeout: 15_000, interval: 250 }).toBe(0);
    const after = await usedMemory(redis);
    const talkers = await redis.keys(`${PREFIX}:talk:*`);
    for (const k of talkers) expect(await redis.zcard(k)).toBeLessThanOrEqual(2 * audit.settings.topTalkers);
    // What stays, key by key (INFO's total also moves with allocator and client buffers): the capped
    // trail, this minute's counts, the top talkers. Bounded by the caps, not by the number of calls.
    let kept = 0;
    for (const k of await redis.keys(`${PREFIX}:*`)) kept += Number(await redis.memory('USAGE', k));
    console.info(`after the window: keys hold ${kept} B for ${calls} calls; INFO used_memory ${after - before} B above the start`);
    expect(kept).toBeLessThan(1_000_000);
    const ttls = await Promise.all((await redis.keys(`${PREFIX}:*`)).map(async (k) => [k, await redis.ttl(k)] as const));
    // Every key an unsolicited call touched expires, except the capped noise trail.
    expect(ttls.filter(([k, t]) => t < 0 && k !== audit.noiseKey)).toEqual([]);
  }, 60_000);

  it('bytes per verification: a pending session, and a verified one during its retention, measured with INFO', async () => {
    const w = worker();
    const n = 500;
    const before = await usedMemory(redis);
    const sessions = [];
    for (let i = 0; i < n; i++) {
      const phoneNumber = `+4477009${String(i).padStart(5, '0')}`;
      sessions.push((await store.create({ phoneNumber, ttlSeconds: 120, owner: 'demo', callbackUrl: 'https://app.example.com/hooks/ringproof' })).verification);
    }
    const pending = (await usedMemory(redis)) - before;
    for (let i = 0; i < n; i += 100) {
      await w.handleBatch(sessions.slice(i, i + 100).map((v) => callEvent({ cli: v.phoneNumber, cliRaw: v.phoneNumber, did: v.callTo })));
    }
    // What the retention keeps: the dedupe buckets are gone after their window, the expiry jobs after they ran.
    await redis.del(...(await redis.keys(`${PREFIX}:dd:*`)));
    await expiryQueue.obliterate({ force: true });
    const verified = (await usedMemory(redis)) - before;
    console.info(`verification: ${(pending / n).toFixed(0)} B per pending session, ${(verified / n).toFixed(0)} B per verified session kept for its retention`);
    expect(emitter.sent).toHaveLength(n);
    expect(pending / n).toBeLessThan(4000);
    expect(verified / n).toBeLessThan(4000);
  }, 60_000);
});
