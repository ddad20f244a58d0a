/**
 * redis.waitReplicas on a real master and replica: WAIT only where there is a replica to wait for,
 * a write confirmed on the replica before it is acknowledged, and an edge batch kept (spooled and
 * sent again) until a replica holds it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallEvent } from '../../src/edge/call-event.js';
import { createLogger } from '../../src/log/logger.js';
import { BullmqEventSink } from '../../src/queue/bullmq-event-sink.js';
import { createQueueMetrics } from '../../src/queue/queue-metrics.js';
import { bullmqPrefix } from '../../src/redis/bullmq-prefix.js';
import { createRedis, type RedisConnection } from '../../src/redis/redis-connection.js';
import { ReplicaWait } from '../../src/redis/replica-wait.js';
import { DiskSpool } from '../../src/spool/disk-spool.js';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';

const logger = createLogger({ level: 'silent' });
const prefix = bullmqPrefix('{rp-wait}');

async function until(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function waits(conn: RedisConnection): Promise<number> {
  const stats = String(await conn.info('commandstats'));
  return Number(/^cmdstat_wait:calls=(\d+)/m.exec(stats)?.[1] ?? 0);
}

describe('ReplicaWait (redis.waitReplicas) with a real master and replica', () => {
  let master: TestRedis;
  let replica: TestRedis;
  let writer: RedisConnection;
  let inspector: RedisConnection;
  let replicaConn: RedisConnection;

  beforeAll(async () => {
    master = await startTestRedis();
    replica = await startTestRedis();
    writer = createRedis(master.url, { role: 'producer' });
    inspector = createRedis(master.url, { role: 'client' });
    replicaConn = createRedis(replica.url, { role: 'client' });
    await until(async () => writer.status === 'ready', 10_000, 'producer connection');
  }, 30_000);

  afterAll(async () => {
    writer?.disconnect();
    inspector?.disconnect();
    replicaConn?.disconnect();
    if (master) await stopAndClean(master);
    if (replica) await stopAndClean(replica);
  });

  it('auto on a master without replicas sends no WAIT; 1 without a replica reports the writes unconfirmed', async () => {
    const auto = new ReplicaWait({ connection: writer, routingKey: prefix, setting: 'auto', timeoutMs: 200 });
    await writer.set(`${prefix}:a`, '1');
    expect(await auto.afterWrite()).toBe(true);
    expect(await waits(inspector)).toBe(0);
    const one = new ReplicaWait({ connection: writer, routingKey: prefix, setting: 1, timeoutMs: 100 });
    expect(await one.afterWrite()).toBe(false);
    expect(await waits(inspector)).toBe(1);
  });

  it('auto with a replica: a write is on the replica when afterWrite() says so', async () => {
    await replicaConn.call('REPLICAOF', '127.0.0.1', String(master.port));
    await until(async () => /master_link_status:up/.test(String(await replicaConn.info('replication'))), 15_000, 'replication link');
    const auto = new ReplicaWait({ connection: writer, routingKey: prefix, setting: 'auto', timeoutMs: 2000, probeEveryMs: 0 });
    const before = await waits(inspector);
    for (let i = 0; i < 20; i++) {
      await writer.set(`${prefix}:k${i}`, String(i));
      expect(await auto.afterWrite()).toBe(true);
      // Read on the replica at once: WAIT returned, so it already has the write.
      expect(await replicaConn.get(`${prefix}:k${i}`)).toBe(String(i));
    }
    expect(await waits(inspector) - before).toBe(20);
  });

  it('an edge batch is kept (spooled, sent again) until a replica acknowledged it', async () => {
    await replicaConn.call('REPLICAOF', 'NO', 'ONE');
    await until(async () => /connected_slaves:0/.test(String(await inspector.info('replication'))), 10_000, 'replica detached');
    const dir = mkdtempSync(join(tmpdir(), 'rp-wait-spool-'));
    const spool = DiskSpool.open<CallEvent>({ dir, maxEvents: 1000, logger });
    const sink = new BullmqEventSink({
      connection: writer, prefix, spool, batchSize: 10, batchDelayMs: 5,
      metrics: createQueueMetrics(new Registry()), logger, retryMinMs: 50, retryMaxMs: 200,
      replicas: new ReplicaWait({ connection: writer, routingKey: prefix, setting: 1, timeoutMs: 100 }),
    });
    try {
      const e: CallEvent = {
        v: 1, trunk: 'carrier-a', source: { address: '127.0.0.1', port: 5060 }, transport: 'udp', callId: 'wait-1@test',
        cli: '+15551230000', cliOrigin: 'pai', cliRaw: '5551230000', did: '+15559870000', didRaw: '5559870000',
        verstat: null, identity: null, userAgent: 'test', rejectCode: 486, receivedAt: Date.now(),
      };
      sink.publish(e);
      // Added to the master, but no replica confirmed it: the edge still holds it.
      await until(async () => (await waits(inspector)) >= 3, 10_000, 'several unconfirmed attempts');
      expect(sink.backlog).toBe(1);
      // A replica comes: the next attempt is confirmed and the edge lets the batch go.
      await replicaConn.call('REPLICAOF', '127.0.0.1', String(master.port));
      await until(async () => sink.backlog === 0, 15_000, 'batch confirmed on the replica');
      const jobs = await replicaConn.keys(`${prefix}:calls:*`);
      expect(jobs.length).toBeGreaterThan(0);
    } finally {
      await sink.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 40_000);
});
