/**
 * The two lanes of the calls pipeline against a real redis-server: the edge's pending-number
 * pre-filter (pub/sub + reload), candidates ahead of a flood, shedding of unsolicited calls only,
 * and the memory ceiling (503 + Retry-After on creation, the used-memory metric).
 */
import { CreationChecks } from '../../src/api/creation-checks.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { MemoryGuardedStore } from '../../src/api/memory-guarded-store.js';
import { registerApi } from '../../src/api/register-api.js';
import { defaultConfig } from '../../src/config/defaults.js';
import type { CallEvent } from '../../src/edge/call-event.js';
import { createLogger } from '../../src/log/logger.js';
import { BullmqEventSink } from '../../src/queue/bullmq-event-sink.js';
import { LanePressure } from '../../src/queue/lane-pressure.js';
import { PendingNumbers } from '../../src/queue/pending-numbers.js';
import { createQueueMetrics, type QueueMetrics } from '../../src/queue/queue-metrics.js';
import { CALLS_QUEUE } from '../../src/queue/queue-names.js';
import { createRedis, type RedisConnection } from '../../src/redis/redis-connection.js';
import { RedisMemoryProbe, registerRedisMemoryMetrics } from '../../src/redis/redis-memory-probe.js';
import { DiskSpool } from '../../src/spool/disk-spool.js';
import { CallWorker } from '../../src/verify/call-worker.js';
import { EXPIRY_QUEUE, type ExpiryJobData } from '../../src/verify/queue-names.js';
import { RedisVerificationStore } from '../../src/verify/redis-verification-store.js';
import type { WebhookEmitter, WebhookEvent } from '../../src/verify/verification-types.js';
import { createVerifyMetrics } from '../../src/verify/verify-metrics.js';
import { verifyKeys } from '../../src/verify/verify-keys.js';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';

const PREFIX = '{rplanes}';
const DID = '+15550005000';
const logger = createLogger({ level: 'silent' });
const keys = verifyKeys(PREFIX);

function callEvent(cli: string): CallEvent {
  return {
    v: 1, trunk: 'carrier-a', source: { address: '127.0.0.1', port: 5060 }, transport: 'udp',
    callId: `${randomUUID()}@198.51.100.7`, cli, cliOrigin: 'pai', cliRaw: cli, did: DID, didRaw: DID,
    verstat: null, identity: null, userAgent: 'test', rejectCode: 486, receivedAt: Date.now(),
  };
}

const floodCli = (i: number): string => `+4477${String(20_000_000 + i).padStart(8, '0')}`;

class CollectingEmitter implements WebhookEmitter {
  readonly sent: { event: WebhookEvent; waitingUnsolicited: number }[] = [];
  constructor(private readonly calls: Queue) {}
  async emit(event: WebhookEvent): Promise<void> {
    // How many unsolicited batches were still waiting when this verification went out.
    this.sent.push({ event, waitingUnsolicited: await this.calls.getPrioritizedCount() });
  }
}

let server: TestRedis;
let redis: Redis;
let calls: Queue;
let expiryQueue: Queue<ExpiryJobData>;
let store: RedisVerificationStore;
let stateDir: string;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  server = await startTestRedis({ appendonly: false });
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
  calls = new Queue(CALLS_QUEUE, { connection: redis, prefix: PREFIX });
  expiryQueue = new Queue<ExpiryJobData>(EXPIRY_QUEUE, { connection: redis, prefix: PREFIX });
});

afterAll(async () => {
  await calls.close();
  await expiryQueue.close();
  redis.disconnect();
  await stopAndClean(server);
});

beforeEach(async () => {
  await redis.flushall();
  stateDir = mkdtempSync(join(tmpdir(), 'rp-lanes-'));
  store = new RedisVerificationStore({ redis, prefix: PREFIX, dids: [DID], expiryQueue });
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await redis.config('SET', 'maxmemory', '0');
  rmSync(stateDir, { recursive: true, force: true });
});

function prefilter(reloadMs = 60_000): { filter: PendingNumbers; subscriber: RedisConnection; reader: RedisConnection } {
  const subscriber = createRedis(server.url, { role: 'client' });
  const reader = createRedis(server.url, { role: 'client' });
  const filter = new PendingNumbers({ subscriber, reader, pendingKey: keys.pending, channel: keys.pendingChannel, reloadMs, logger });
  cleanups.push(() => { filter.close(); subscriber.disconnect(); reader.disconnect(); });
  return { filter, subscriber, reader };
}

function sink(opts: { candidates?: PendingNumbers; pressure?: { readonly shedding: boolean }; batchDelayMs?: number } = {}): { sink: BullmqEventSink; metrics: QueueMetrics; registry: Registry } {
  const registry = new Registry();
  const metrics = createQueueMetrics(registry);
  const producer = createRedis(server.url, { role: 'producer' });
  const spool = DiskSpool.open<CallEvent>({ dir: join(stateDir, 'spool'), maxEvents: 100_000, logger });
  const s = new BullmqEventSink({
    connection: producer, prefix: PREFIX, spool, metrics, logger, batchSize: 100, batchDelayMs: opts.batchDelayMs ?? 5,
    ...(opts.candidates ? { candidates: opts.candidates } : {}), ...(opts.pressure ? { pressure: opts.pressure } : {}),
  });
  cleanups.push(async () => { await s.close(); producer.disconnect(); });
  return { sink: s, metrics, registry };
}

/** Events that reached Redis, directly or through the spool. */
async function taken(registry: Registry): Promise<number> {
  return (await publishedResult(registry, 'queued')) + (await publishedResult(registry, 'spooled'));
}

function worker(emitter: WebhookEmitter, concurrency = 1): CallWorker {
  const connection = new Redis(server.url, { maxRetriesPerRequest: null });
  const w = new CallWorker({
    connection, prefix: PREFIX, emitter, defaultWebhookUrl: 'http://127.0.0.1:9/cb',
    metrics: createVerifyMetrics(new Registry()), audit: new AuditLog({ redis, prefix: PREFIX }), concurrency, autorun: false,
  });
  cleanups.push(async () => { await w.close(); connection.disconnect(); });
  return w;
}

async function publishedResult(registry: Registry, result: string): Promise<number> {
  const metric = await registry.getSingleMetric('ringproof_events_published_total')?.get();
  return metric?.values.find((v) => v.labels.result === result)?.value ?? 0;
}

describe('pending-number pre-filter', () => {
  it('learns a new session by pub/sub, a missed one by the reload, and is synced only while subscribed', async () => {
    const { filter, subscriber } = prefilter(300);
    await filter.whenSynced();
    expect(filter.synced).toBe(true);
    await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    await expect.poll(() => filter.has('+447700900001'), { timeout: 5000 }).toBe(true);
    expect(filter.has('+447700900002')).toBe(false);
    // A number whose announcement was missed (written without PUBLISH) arrives with the next reload.
    await redis.zadd(keys.pending, Date.now() + 60_000, '+447700900002');
    await expect.poll(() => filter.has('+447700900002'), { timeout: 5000 }).toBe(true);
    // An entry past its expiry is gone after a reload.
    await redis.zadd(keys.pending, Date.now() - 1, '+447700900003');
    await new Promise((r) => setTimeout(r, 700));
    expect(filter.has('+447700900003')).toBe(false);
    subscriber.disconnect(false);
    await expect.poll(() => filter.synced, { timeout: 5000 }).toBe(false);
  });
});

describe('two lanes', () => {
  it('a verification goes ahead of a flood of unsolicited calls already queued', async () => {
    const { filter } = prefilter();
    await filter.whenSynced();
    const { sink: s } = sink({ candidates: filter });
    const emitter = new CollectingEmitter(calls);
    const w = worker(emitter, 1);
    // 3,000 unsolicited calls queued while no worker runs: 30 batches in the unsolicited lane.
    for (let i = 0; i < 3000; i++) s.publish(callEvent(floodCli(i)));
    await expect.poll(() => s.backlog, { timeout: 10_000 }).toBe(0);
    expect(await calls.getPrioritizedCount()).toBeGreaterThanOrEqual(30);
    const { verification: v } = await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    await expect.poll(() => filter.has('+447700900001'), { timeout: 5000 }).toBe(true);
    s.publish(callEvent('+447700900001'));
    await expect.poll(() => s.backlog, { timeout: 5000 }).toBe(0);
    expect(await calls.getWaitingCount()).toBe(1); // the candidate lane: one plain job
    void w.run();
    await expect.poll(() => emitter.sent.length, { timeout: 10_000 }).toBe(1);
    expect(emitter.sent[0]!.event.data.verification.id).toBe(v.id);
    // The worker took the candidate first: (nearly) the whole flood was still waiting behind it.
    expect(emitter.sent[0]!.waitingUnsolicited).toBeGreaterThanOrEqual(25);
    await expect.poll(() => calls.getPrioritizedCount(), { timeout: 20_000 }).toBe(0);
  }, 40_000);

  it('unsolicited calls wait for the batch delay and go in few jobs; a candidate is flushed at once, with them', async () => {
    const { filter } = prefilter();
    await filter.whenSynced();
    const { sink: s } = sink({ candidates: filter, batchDelayMs: 60_000 });
    await expect.poll(() => s.ready, { timeout: 5000 }).toBe(true);
    await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    await expect.poll(() => filter.has('+447700900001'), { timeout: 5000 }).toBe(true);
    for (let i = 0; i < 150; i++) {
      s.publish(callEvent(floodCli(i)));
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await expect.poll(() => s.backlog, { timeout: 5000 }).toBe(50);
    await new Promise((r) => setTimeout(r, 300));
    // A full batch (batchSize 100) went at once; the other 50 wait for the minute's delay, however
    // the calls trickled in (before, each add's reply flushed what had come meanwhile: tiny batches).
    expect(await calls.getPrioritizedCount()).toBe(1);
    expect(s.backlog).toBe(50);
    s.publish(callEvent('+447700900001'));
    await expect.poll(() => s.backlog, { timeout: 5000 }).toBe(0);
    // The candidate went at once, and the 50 waiting calls with it (in their own lane's job).
    expect(await calls.getWaitingCount()).toBe(1);
    expect(await calls.getPrioritizedCount()).toBe(2);
  });

  it('sheds unsolicited calls only, counted, while the workers are behind; a candidate is never shed', async () => {
    const { filter } = prefilter();
    await filter.whenSynced();
    const producer = createRedis(server.url, { role: 'producer' });
    cleanups.push(() => producer.disconnect());
    const pressure = new LanePressure({ connection: producer, prefix: PREFIX, shedAfterMs: 300, memoryShedRatio: 0.9 });
    cleanups.push(() => pressure.close());
    const { sink: s, registry } = sink({ candidates: filter, pressure });
    const { verification: v } = await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    await expect.poll(() => filter.has('+447700900001'), { timeout: 5000 }).toBe(true);

    for (let i = 0; i < 500; i++) s.publish(callEvent(floodCli(i)));
    await expect.poll(() => s.backlog, { timeout: 5000 }).toBe(0);
    await new Promise((r) => setTimeout(r, 400)); // no worker: the oldest unsolicited batch ages past 300 ms
    await pressure.read();
    expect(pressure.shedding).toBe(true);
    expect(pressure.laneAgeMs).toBeGreaterThan(300);
    for (let i = 500; i < 1000; i++) s.publish(callEvent(floodCli(i)));
    s.publish(callEvent('+447700900001'));
    await expect.poll(() => s.backlog, { timeout: 5000 }).toBe(0);
    expect(await publishedResult(registry, 'shed')).toBe(500);
    expect(await taken(registry)).toBe(501);

    // The candidate verifies; once the workers catch up, shedding stops.
    const emitter = new CollectingEmitter(calls);
    void worker(emitter, 4).run();
    await expect.poll(() => emitter.sent.map((e) => e.event.data.verification.id), { timeout: 10_000 }).toEqual([v.id]);
    await expect.poll(async () => { await pressure.read(); return pressure.shedding; }, { timeout: 20_000 }).toBe(false);
    for (let i = 1000; i < 1100; i++) s.publish(callEvent(floodCli(i)));
    await expect.poll(() => s.backlog, { timeout: 5000 }).toBe(0);
    expect(await publishedResult(registry, 'shed')).toBe(500);
  }, 40_000);

  it('a pre-filter that may be stale (not subscribed) never sheds, whatever the pressure', async () => {
    const { filter, subscriber } = prefilter();
    await filter.whenSynced();
    subscriber.disconnect(false);
    await expect.poll(() => filter.synced, { timeout: 5000 }).toBe(false);
    const { sink: s, registry } = sink({ candidates: filter, pressure: { shedding: true } });
    for (let i = 0; i < 100; i++) s.publish(callEvent(floodCli(i)));
    await expect.poll(() => s.backlog, { timeout: 5000 }).toBe(0);
    expect(await taken(registry)).toBe(100);
    expect(await publishedResult(registry, 'shed')).toBe(0);
  });
});

describe('memory ceiling', () => {
  it('exports Redis memory, and creation answers 503 + Retry-After above the high-water mark, then resumes', async () => {
    const memory = new RedisMemoryProbe({ connection: redis });
    cleanups.push(() => memory.close());
    const registry = new Registry();
    registerRedisMemoryMetrics(registry, memory);
    const config = defaultConfig();
    const app = Fastify({ logger: false });
    cleanups.push(() => app.close());
    await registerApi(app, { store: new MemoryGuardedStore(store, memory, 0.9), config, logger, registry, creationChecks: new CreationChecks([]) });
    const create = (): Promise<{ statusCode: number; headers: Record<string, unknown>; body: string }> =>
      app.inject({ method: 'POST', url: '/v1/verifications', payload: { phoneNumber: '+447700900001' }, remoteAddress: '127.0.0.1' });

    await memory.refresh();
    expect(memory.usedBytes).toBeGreaterThan(0);
    expect(await registry.metrics()).toMatch(/ringproof_redis_used_memory_bytes [1-9]\d*/);
    expect((await create()).statusCode).toBe(201);

    // A ceiling just above what Redis uses now: past 90 %.
    await redis.config('SET', 'maxmemory', String(Math.ceil(memory.usedBytes / 0.95)));
    await memory.refresh();
    expect(memory.ratio).toBeGreaterThanOrEqual(0.9);
    const refused = await create();
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('30');
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'RP_API_UNAVAILABLE' } });
    expect(await registry.metrics()).toMatch(/ringproof_redis_maxmemory_bytes [1-9]\d*/);

    await redis.config('SET', 'maxmemory', '0');
    await memory.refresh();
    expect((await create()).statusCode).toBe(201);
  });
});
