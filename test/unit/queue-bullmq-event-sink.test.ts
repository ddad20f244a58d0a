import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CallEvent } from '../../src/edge/call-event.js';
import { createLogger } from '../../src/log/logger.js';
import { BullmqEventSink } from '../../src/queue/bullmq-event-sink.js';
import { batchEvents } from '../../src/queue/call-batch.js';
import { batchJobId } from '../../src/queue/call-job-id.js';
import { createQueueMetrics, type QueueMetrics } from '../../src/queue/queue-metrics.js';
import { QueueDepthProbe } from '../../src/queue/queue-depth-probe.js';
import { CALLS_QUEUE, WEBHOOKS_QUEUE } from '../../src/queue/queue-names.js';
import { bullmqPrefix } from '../../src/redis/bullmq-prefix.js';
import { createRedis, type RedisConnection } from '../../src/redis/redis-connection.js';
import { DiskSpool } from '../../src/spool/disk-spool.js';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';

const logger = createLogger({ level: 'silent' });
const prefix = bullmqPrefix('{rp-test}');

function event(callId: string, i = 0): CallEvent {
  return {
    v: 1, trunk: 'carrier-a', source: { address: '127.0.0.1', port: 5060 }, transport: 'udp', callId,
    cli: '+15551230000', cliOrigin: 'pai', cliRaw: '5551230000', did: '+15559870000', didRaw: '5559870000',
    verstat: null, identity: null, userAgent: 'test', rejectCode: 486, receivedAt: 1_700_000_000_000 + i,
  };
}

async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Harness {
  sink: BullmqEventSink;
  spool: DiskSpool<CallEvent>;
  producer: RedisConnection;
  metrics: QueueMetrics;
  registry: Registry;
}

describe('BullmqEventSink with a real redis-server', () => {
  let redis: TestRedis;
  let inspector: RedisConnection;
  let calls: Queue;
  let stateDir: string;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    // Tests below SIGKILL Redis right after the previous test's obliterate: fsync every write.
    redis = await startTestRedis({ appendfsync: 'always' });
    inspector = createRedis(redis.url, { role: 'client' });
    calls = new Queue(CALLS_QUEUE, { connection: inspector, prefix });
    calls.on('error', () => undefined); // outages below are on purpose
  });
  afterAll(async () => {
    await calls.close();
    inspector.disconnect();
    await stopAndClean(redis);
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    await calls.obliterate({ force: true });
    rmSync(stateDir, { recursive: true, force: true });
  });

  function harness(opts: { batchSize?: number; spoolDir?: string; maxEvents?: number; maxBuffered?: number } = {}): Harness {
    const registry = new Registry();
    const metrics = createQueueMetrics(registry);
    const spool = DiskSpool.open<CallEvent>({ dir: opts.spoolDir ?? join(stateDir, 'spool'), maxEvents: opts.maxEvents ?? 100_000, logger });
    const producer = createRedis(redis.url, { role: 'producer' });
    const sink = new BullmqEventSink({
      connection: producer, prefix, spool, metrics, logger,
      batchSize: opts.batchSize ?? 100, batchDelayMs: 5, retryMinMs: 50, retryMaxMs: 300, addTimeoutMs: 2000,
      maxBuffered: opts.maxBuffered,
    });
    cleanups.push(async () => { await sink.close(); producer.disconnect(); });
    return { sink, spool, producer, metrics, registry };
  }

  const newStateDir = (): void => { stateDir = mkdtempSync(join(tmpdir(), 'rp-sink-')); };

  /** The events of every waiting job (one job per batch), in queue order. */
  async function queuedEvents(): Promise<CallEvent[]> {
    const jobs = await calls.getJobs(['waiting'], 0, -1, true);
    return jobs.flatMap((j) => batchEvents(j.data) as CallEvent[]);
  }

  it('turns 1000 events into batch jobs of at most batchSize events, each event in one job', async () => {
    newStateDir();
    const { sink, producer, registry } = harness();
    await until(() => sink.ready, 5000, 'producer ready');
    for (let i = 0; i < 1000; i++) sink.publish(event(`call-${i}@10.0.0.1`, i));
    // publish() only buffers (no Redis round trip on the SIP path): right after the loop, with no
    // await in between, every event is still held by the sink. Not a timing: a count.
    expect(sink.backlog).toBe(1000);
    // A carrier resend of the same call, in a later batch: queued again, the worker's Call-ID dedupe decides it once.
    sink.publish(event('call-7@10.0.0.1', 7));
    await until(async () => sink.backlog === 0 && (await queuedEvents()).length >= 1001, 10_000, '1001 events queued');
    await sleep(50);
    const jobs = await calls.getJobs(['waiting'], 0, -1, true);
    expect(jobs.length).toBeGreaterThanOrEqual(11);
    expect(jobs.length).toBeLessThanOrEqual(1001);
    const events = await queuedEvents();
    expect(events).toHaveLength(1001);
    expect(new Set(events.map((e) => e.callId)).size).toBe(1000);
    expect(events.find((e) => e.callId === 'call-42@10.0.0.1')).toEqual(event('call-42@10.0.0.1', 42));
    const job = jobs[0]!;
    const batch = batchEvents(job.data) as CallEvent[];
    expect(batch.length).toBeLessThanOrEqual(100);
    expect(job.id).toBe(batchJobId(batch));
    expect(job.name).toBe('calls');
    expect(job.opts.attempts).toBe(8);
    expect(job.opts.removeOnComplete).toBe(true);
    expect(batchJobId([event('a:b:c')])).toMatch(/^[0-9a-f]{40}$/);
    expect(producer.status).toBe('ready');

    const text = await registry.metrics();
    expect(text).toContain('ringproof_events_published_total{result="queued"} 1001');
    expect(text).toContain('ringproof_spool_events 0');
  });

  it('Redis under appendfsync everysec is SIGKILLed mid-burst: the edge spools, re-sends what Redis acknowledged last, and loses no event', async () => {
    newStateDir();
    // everysec, as the embedded Redis runs: a kill may lose acknowledged writes of its last ~2 s
    // (a write postponed behind a slow fsync). The sink's resend of recent batches covers that.
    await inspector.config('SET', 'appendfsync', 'everysec');
    const { sink, spool, registry } = harness({ batchSize: 50 });
    await until(() => sink.ready, 5000, 'producer ready');

    const published: string[] = [];
    const burst = async (from: number, count: number): Promise<void> => {
      for (let i = from; i < from + count; i++) {
        const id = `burst-${i}@edge`;
        published.push(id);
        sink.publish(event(id, i));
        if (i % 25 === 0) await sleep(2);
      }
    };
    try {
      await burst(0, 600);
      const killed = redis.stop(true);
      await burst(600, 600); // keeps going while Redis dies and is gone
      await killed;
      await burst(1200, 400);
      await until(() => spool.size > 0, 5000, 'events spooled');
      expect(sink.ready).toBe(false);
      await redis.restart();
      await burst(1600, 400); // new events while the spool drains
      await until(() => sink.backlog === 0, 15_000, 'spool drained');

      await until(async () => new Set((await queuedEvents()).map((e) => e.callId)).size >= 2000, 5000, '2000 distinct events');
      const ids = (await queuedEvents()).map((e) => e.callId);
      // Every event is queued; the only repeats are re-sent batches (the worker dedupes them by Call-ID).
      expect([...new Set(ids)].sort()).toEqual([...published].sort());
      expect(spool.size).toBe(0);

      const text = await registry.metrics();
      expect(text).toContain('ringproof_spool_events 0');
      const metric = (re: RegExp): number => Number(re.exec(text)?.[1] ?? 0);
      const spooled = metric(/ringproof_events_published_total\{result="spooled"\} (\d+)/);
      const queued = metric(/ringproof_events_published_total\{result="queued"\} (\d+)/);
      const drained = metric(/ringproof_spool_drained_total (\d+)/);
      const resent = metric(/ringproof_events_resent_total (\d+)/);
      expect(spooled).toBeGreaterThan(0);
      expect(queued + spooled).toBe(2000);
      expect(resent).toBeGreaterThan(0);
      expect(ids.length - 2000).toBeLessThanOrEqual(resent);
      // Re-sent events that were written to the spool are counted by drained too.
      expect(drained).toBeGreaterThanOrEqual(spooled);
    } finally {
      await inspector.config('SET', 'appendfsync', 'always').catch(() => undefined);
    }
  }, 30_000);

  it('close() with Redis down keeps the buffer on disk; the next run sends it first', async () => {
    newStateDir();
    const spoolDir = join(stateDir, 'spool');
    const first = harness({ spoolDir });
    await until(() => first.sink.ready, 5000, 'producer ready');
    await redis.stop(true);
    await until(() => !first.sink.ready, 5000, 'producer notices');
    for (let i = 0; i < 30; i++) first.sink.publish(event(`closing-${i}`, i));
    await first.sink.close(); // also closes the spool
    const reopened = DiskSpool.open<CallEvent>({ dir: spoolDir, maxEvents: 1000, logger });
    expect(reopened.size).toBe(30);
    await reopened.close();

    await redis.restart();
    const second = harness({ spoolDir });
    expect(second.spool.size).toBe(30);
    await until(() => second.sink.backlog === 0, 10_000, 'previous run drained');
    const events = await queuedEvents();
    expect(events).toHaveLength(30);
    expect(events.find((e) => e.callId === 'closing-29')?.receivedAt).toBe(1_700_000_000_029);
  }, 20_000);

  it('starts while Redis is down: events are spooled, then sent once Redis appears', async () => {
    newStateDir();
    await redis.stop(true);
    const { sink, spool } = harness();
    for (let i = 0; i < 20; i++) sink.publish(event(`early-${i}`, i));
    await until(() => spool.size === 20, 5000, 'events spooled');
    expect(sink.ready).toBe(false);
    await redis.restart();
    await until(() => sink.backlog === 0, 10_000, 'spool drained');
    expect(sink.ready).toBe(true);
    expect(await queuedEvents()).toHaveLength(20);
  }, 20_000);

  it('keeps memory bounded when Redis stalls: the buffer overflows to the spool, nothing is lost', async () => {
    newStateDir();
    const { sink, spool, registry } = harness({ batchSize: 20, maxBuffered: 100 });
    await until(() => sink.ready, 5000, 'producer ready');
    await inspector.call('CLIENT', 'PAUSE', '700', 'WRITE'); // Redis accepts commands but holds writes
    for (let i = 0; i < 500; i++) {
      sink.publish(event(`stall-${i}`, i));
      if (i % 50 === 0) await sleep(5);
    }
    expect(sink.backlog - spool.size).toBeLessThanOrEqual(100); // in memory: at most maxBuffered
    expect(spool.size).toBeGreaterThan(0);
    expect(sink.ready).toBe(true); // Redis never went away: the spool took the overflow of memory
    await until(() => sink.backlog === 0, 10_000, 'backlog drained');
    await until(async () => (await queuedEvents()).length === 500, 5000, '500 events queued');
    expect((await registry.metrics())).toMatch(/ringproof_events_published_total\{result="spooled"\} [1-9]/);
  }, 20_000);

  it('reports queue depth for calls and webhooks, cached between scrapes', async () => {
    newStateDir();
    const { sink, metrics, registry, producer } = harness();
    const probe = new QueueDepthProbe({ connection: producer, prefix, queues: [CALLS_QUEUE, WEBHOOKS_QUEUE] });
    cleanups.push(() => probe.close());
    metrics.watchQueues(probe);
    await until(() => sink.ready, 5000, 'producer ready');
    // One job per flush: publish, let it flush, repeat.
    const publishFlushed = async (i: number): Promise<void> => {
      sink.publish(event(`depth-${i}`, i));
      await until(() => sink.backlog === 0, 5000, 'flushed');
    };
    for (let i = 0; i < 5; i++) await publishFlushed(i);
    await until(async () => (await calls.getWaitingCount()) === 5, 5000, '5 jobs');
    expect(await registry.metrics()).toContain('ringproof_queue_depth{queue="calls"} 5');
    expect(await registry.metrics()).toContain('ringproof_queue_depth{queue="webhooks"} 0');
    for (let i = 5; i < 8; i++) await publishFlushed(i);
    await until(async () => (await calls.getWaitingCount()) === 8, 5000, '8 jobs');
    expect(await registry.metrics()).toContain('ringproof_queue_depth{queue="calls"} 5'); // still the cached value
    await sleep(1100);
    expect(await registry.metrics()).toContain('ringproof_queue_depth{queue="calls"} 8');
  });
});
