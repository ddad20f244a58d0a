/**
 * The edge decider against a real redis-server: the pending-number copy made exact by its watermark
 * (PING on the subscriber connection), calls held until it covers their arrival, decided at the edge
 * only then and only while the copy is exact; the aggregates it writes have the worker script's format.
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_AUDIT_SETTINGS } from '../../src/audit/audit-types.js';
import type { CallEvent } from '../../src/edge/call-event.js';
import { createLogger } from '../../src/log/logger.js';
import { EdgeAggregate } from '../../src/queue/edge-aggregate.js';
import { EdgePrefilter } from '../../src/queue/edge-prefilter.js';
import { PendingNumbers } from '../../src/queue/pending-numbers.js';
import { createRedis } from '../../src/redis/redis-connection.js';
import { EXPIRY_QUEUE, type ExpiryJobData } from '../../src/verify/queue-names.js';
import { RedisVerificationStore } from '../../src/verify/redis-verification-store.js';
import { verifyKeys } from '../../src/verify/verify-keys.js';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';

const PREFIX = '{rpedge}';
const DID = '+15550005000';
const logger = createLogger({ level: 'silent' });
const keys = verifyKeys(PREFIX);

function callEvent(cli: string | null, callId = `${randomUUID()}@198.51.100.7`): CallEvent {
  return {
    v: 1, trunk: 'carrier-a', source: { address: '127.0.0.1', port: 5060 }, transport: 'udp',
    callId, cli, cliOrigin: cli === null ? 'withheld' : 'pai', cliRaw: cli, did: DID, didRaw: DID,
    verstat: null, identity: null, userAgent: 'test', rejectCode: 486, receivedAt: Date.now(),
  };
}

let server: TestRedis;
let redis: Redis;
let expiryQueue: Queue<ExpiryJobData>;
let store: RedisVerificationStore;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  server = await startTestRedis({ appendonly: false });
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
  expiryQueue = new Queue<ExpiryJobData>(EXPIRY_QUEUE, { connection: redis, prefix: PREFIX });
});

afterAll(async () => {
  await expiryQueue.close();
  redis.disconnect();
  await stopAndClean(server);
});

beforeEach(async () => {
  await redis.flushall();
  store = new RedisVerificationStore({ redis, prefix: PREFIX, dids: [DID], expiryQueue });
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Rig {
  filter: PendingNumbers;
  subscriber: Redis;
  prefilter: EdgePrefilter;
  aggregate: EdgeAggregate;
  queued: Array<{ cli: string | null; candidate: boolean }>;
}

async function rig(opts: { staleMs?: number; noiseSampleEvery?: number; noiseMaxPerSecond?: number } = {}): Promise<Rig> {
  const subscriber = createRedis(server.url, { role: 'client' }) as Redis;
  const reader = createRedis(server.url, { role: 'producer' });
  const filter = new PendingNumbers({ subscriber, reader, pendingKey: keys.pending, channel: keys.pendingChannel, reloadMs: 60_000, watermarkMs: 20, logger });
  const aggregate = new EdgeAggregate({
    connection: reader, keys, logger, flushMs: 60_000,
    audit: {
      ...DEFAULT_AUDIT_SETTINGS,
      noiseSampleEvery: opts.noiseSampleEvery ?? DEFAULT_AUDIT_SETTINGS.noiseSampleEvery,
      noiseMaxPerSecond: opts.noiseMaxPerSecond ?? 1_000_000,
    },
  });
  const queued: Rig['queued'] = [];
  const prefilter = new EdgePrefilter({ filter, aggregate, staleMs: opts.staleMs ?? 5000, toQueue: (e, candidate) => queued.push({ cli: e.cli, candidate }) });
  cleanups.push(async () => { prefilter.close(); filter.close(); await aggregate.close(); subscriber.disconnect(); reader.disconnect(); });
  await expect.poll(() => filter.watermark, { timeout: 5000 }).toBeGreaterThan(0);
  return { filter, subscriber, prefilter, aggregate, queued };
}

/** The per-minute counts of this minute and the two before, summed: a test may cross a minute boundary. */
async function counts(): Promise<Record<string, string>> {
  const minute = Math.floor(Date.now() / 60_000);
  const sum: Record<string, number> = {};
  for (const m of [minute - 2, minute - 1, minute]) {
    for (const [field, n] of Object.entries(await redis.hgetall(keys.aggregateKey(m)))) sum[field] = (sum[field] ?? 0) + Number(n);
  }
  return Object.fromEntries(Object.entries(sum).map(([field, n]) => [field, String(n)]));
}

describe('exact pre-filter (watermark)', () => {
  it('a call from a number whose session was created before it arrived is never decided unsolicited, even when the announcement is late', async () => {
    const { filter, subscriber, prefilter, aggregate, queued } = await rig();
    // The announcement of the next session stays on the wire: the subscriber reads nothing.
    subscriber.stream.pause();
    await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    expect(filter.has('+447700900001')).toBe(false);
    expect(prefilter.offer(callEvent('+447700900001'))).toBe(true); // held
    expect(prefilter.offer(callEvent('+447700900002'))).toBe(true); // held
    await new Promise((r) => setTimeout(r, 200));
    expect(prefilter.held).toBe(2);
    expect(queued).toEqual([]);
    expect(aggregate.counts.decided.unsolicited).toBe(0);
    // Message then PONG: the first call is a candidate after all; the other is decided at the edge.
    subscriber.stream.resume();
    await expect.poll(() => prefilter.held, { timeout: 5000 }).toBe(0);
    expect(queued).toEqual([{ cli: '+447700900001', candidate: true }]);
    expect(aggregate.counts.decided.unsolicited).toBe(1);
    await aggregate.flush();
    expect(await counts()).toEqual({ [`carrier-a|${DID}|unsolicited`]: '1' });
  });

  it('a watermark that stops moving sends held calls (and new ones) the queue path', async () => {
    const { subscriber, prefilter, queued } = await rig({ staleMs: 300 });
    subscriber.stream.pause();
    expect(prefilter.offer(callEvent('+447700900003'))).toBe(true);
    await expect.poll(() => queued, { timeout: 5000 }).toEqual([{ cli: '+447700900003', candidate: false }]);
    expect(prefilter.offer(callEvent('+447700900004'))).toBe(false);
    subscriber.stream.resume();
    await expect.poll(() => prefilter.offer(callEvent('+447700900005')), { timeout: 5000 }).toBe(true);
  });

  it('a lost connection makes the copy not exact (held calls go the queue path) until resubscribed and reloaded', async () => {
    const { filter, subscriber, prefilter, aggregate, queued } = await rig();
    subscriber.stream.pause();
    expect(prefilter.offer(callEvent('+447700900006'))).toBe(true);
    subscriber.disconnect(true); // closed here; ioredis reconnects by itself
    await expect.poll(() => queued, { timeout: 5000 }).toEqual([{ cli: '+447700900006', candidate: false }]);
    expect(filter.watermark).toBe(0);
    expect(prefilter.offer(callEvent('+447700900007'))).toBe(false);
    // Created while the subscriber is away: its announcement is lost, the reload brings it.
    await store.create({ phoneNumber: '+447700900008', ttlSeconds: 60, owner: 'a' });
    await expect.poll(() => filter.watermark, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(filter.has('+447700900008')).toBe(true);
    expect(prefilter.offer(callEvent('+447700900009'))).toBe(true);
    await expect.poll(() => aggregate.counts.decided.unsolicited, { timeout: 5000 }).toBe(1);
  });

  it('without a watermark (watermarkMs 0) the copy is never exact: nothing is decided at the edge', async () => {
    const subscriber = createRedis(server.url, { role: 'client' });
    const reader = createRedis(server.url, { role: 'producer' });
    const filter = new PendingNumbers({ subscriber, reader, pendingKey: keys.pending, channel: keys.pendingChannel, reloadMs: 60_000, logger });
    cleanups.push(() => { filter.close(); subscriber.disconnect(); reader.disconnect(); });
    await expect.poll(() => filter.synced, { timeout: 5000 }).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(filter.watermark).toBe(0);
  });
});

describe('edge aggregates', () => {
  it('writes the worker script\'s counts, noise trail and talkers; a resent Call-ID counts duplicate; no CLI is decided at once', async () => {
    const { prefilter, aggregate } = await rig({ noiseSampleEvery: 1 });
    const first = callEvent('+447700900010');
    expect(prefilter.offer(first)).toBe(true);
    expect(prefilter.offer(callEvent('+447700900010', first.callId))).toBe(true);
    expect(prefilter.offer(callEvent(null))).toBe(true);
    expect(prefilter.held).toBe(2); // the withheld call needed no watermark
    for (let i = 0; i < 200; i++) prefilter.offer(callEvent(`+4477009${String(1000 + i)}`));
    await expect.poll(() => prefilter.held, { timeout: 5000 }).toBe(0);
    await aggregate.flush();
    expect(await counts()).toEqual({
      [`carrier-a|${DID}|unsolicited`]: '201', [`carrier-a|${DID}|duplicate`]: '1', [`carrier-a|${DID}|withheld`]: '1',
    });
    const noise = await redis.xrange(keys.noise, '-', '+');
    expect(noise).toHaveLength(203);
    const data = noise.map(([, f]) => JSON.parse(f[f.indexOf('data') + 1] as string) as Record<string, unknown>);
    expect(data.filter((d) => d.callId === first.callId)).toEqual([
      expect.objectContaining({ cli: '+447700900010', outcome: 'unsolicited', detail: 'no_session' }),
      expect.objectContaining({ outcome: 'duplicate', firstOutcome: 'unsolicited', detail: 'no_session' }),
    ]);
    expect(data.find((d) => d.cli === null)).toMatchObject({ outcome: 'withheld' });
    expect(data.find((d) => d.cli === null)).not.toHaveProperty('detail');
    // One fresh call in 8 (by Call-ID) counted 8 in the hour's talkers.
    const talkers = await redis.zrange(keys.talkersKey(Math.floor(Date.now() / 3_600_000)), '0', '-1', 'WITHSCORES');
    const scores = talkers.filter((_, i) => i % 2 === 1).map(Number);
    expect(scores.length).toBeGreaterThan(5);
    expect(scores.length).toBeLessThan(60);
    expect(scores.every((s) => s === 8)).toBe(true);
  });

  it('writes at most audit.noiseMaxPerSecond sampled calls a second to the noise trail, and still counts every call', async () => {
    const { prefilter, aggregate } = await rig({ noiseSampleEvery: 1, noiseMaxPerSecond: 50 });
    // Two seconds of 120 calls each, by the calls' own receipt time.
    const second = Math.floor(Date.now() / 1000) * 1000;
    for (let s = 0; s < 2; s++) {
      for (let i = 0; i < 120; i++) prefilter.offer({ ...callEvent(`+4477009${String(2000 + s * 200 + i)}`), receivedAt: second + s * 1000 + i });
    }
    await expect.poll(() => prefilter.held, { timeout: 5000 }).toBe(0);
    await aggregate.flush();
    expect(await counts()).toEqual({ [`carrier-a|${DID}|unsolicited`]: '240' });
    const noise = await redis.xrange(keys.noise, '-', '+');
    const clis = noise.map(([, f]) => (JSON.parse(f[f.indexOf('data') + 1] as string) as { cli: string }).cli);
    expect(clis).toHaveLength(100);
    // The first 50 of each second.
    expect(clis.slice(0, 50)).toEqual(Array.from({ length: 50 }, (_, i) => `+4477009${2000 + i}`));
    expect(clis.slice(50)).toEqual(Array.from({ length: 50 }, (_, i) => `+4477009${2200 + i}`));
  });

  it('a blocklisted caller with no session is counted blocked, as the worker script counts it', async () => {
    const { prefilter, aggregate } = await rig({ noiseSampleEvery: 1 });
    const blocked = { ...callEvent('+447700900020'), blocked: { kind: 'number' as const, value: '+447700900020', reason: 'fraud' } };
    expect(prefilter.offer(blocked)).toBe(true);
    await expect.poll(() => prefilter.held, { timeout: 5000 }).toBe(0);
    await aggregate.flush();
    expect(await counts()).toEqual({ [`carrier-a|${DID}|blocked`]: '1' });
    const noise = await redis.xrange(keys.noise, '-', '+');
    const data = noise.map(([, f]) => JSON.parse(f[f.indexOf('data') + 1] as string) as Record<string, unknown>);
    expect(data.find((d) => d.callId === blocked.callId)).toMatchObject({ outcome: 'blocked', detail: 'blocklist' });
  });

  it('a Call-ID is a duplicate for one to two dedupe half-windows, then new again; each DID and outcome keeps its own count', async () => {
    const reader = createRedis(server.url, { role: 'producer' });
    const aggregate = new EdgeAggregate({ connection: reader, keys, logger, flushMs: 60_000, dedupeMs: 1000, audit: DEFAULT_AUDIT_SETTINGS });
    cleanups.push(async () => { await aggregate.close(); reader.disconnect(); });
    const first = callEvent('+447700900030');
    expect(aggregate.add(first)).toBe('unsolicited');
    expect(aggregate.add({ ...first })).toBe('duplicate');
    // A new generation begins (500 ms): the Call-ID is still found in the previous one.
    await new Promise((r) => setTimeout(r, 600));
    expect(aggregate.add(callEvent('+447700900031'))).toBe('unsolicited');
    expect(aggregate.add({ ...first })).toBe('duplicate');
    // Two generations on, it has been forgotten.
    await new Promise((r) => setTimeout(r, 600));
    aggregate.add(callEvent('+447700900032'));
    await new Promise((r) => setTimeout(r, 600));
    aggregate.add(callEvent('+447700900033'));
    expect(aggregate.add({ ...first })).toBe('unsolicited');
    expect(aggregate.add({ ...callEvent(null), did: '+15550100002' })).toBe('withheld');
    await aggregate.flush();
    expect(await counts()).toEqual({
      [`carrier-a|${DID}|unsolicited`]: '5', [`carrier-a|${DID}|duplicate`]: '2', 'carrier-a|+15550100002|withheld': '1',
    });
  });

  it('keeps the counts while Redis refuses them and writes them with the next flush', async () => {
    const { prefilter, aggregate } = await rig();
    prefilter.offer(callEvent(null));
    await redis.config('SET', 'maxmemory', '1');
    try {
      await aggregate.flush(); // refused (OOM): kept
      expect(await counts()).toEqual({});
    } finally {
      await redis.config('SET', 'maxmemory', '0');
    }
    prefilter.offer(callEvent(null));
    await aggregate.flush();
    expect(await counts()).toEqual({ [`carrier-a|${DID}|withheld`]: '2' });
  });
});
