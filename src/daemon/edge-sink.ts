import { join } from 'node:path';
import type { Logger } from 'pino';
import type { RingproofConfig } from '../config/config-types.js';
import type { CallEvent } from '../edge/call-event.js';
import type { EventSink } from '../edge/event-sink.js';
import { BullmqEventSink } from '../queue/bullmq-event-sink.js';
import { LanePressure } from '../queue/lane-pressure.js';
import { PendingNumbers } from '../queue/pending-numbers.js';
import type { QueueMetrics } from '../queue/queue-metrics.js';
import { bullmqPrefix, createRedis } from '../redis/redis-connection.js';
import type { RedisMemoryProbe } from '../redis/redis-memory-probe.js';
import { DiskSpool } from '../spool/disk-spool.js';
import { verifyKeys } from '../verify/verify-keys.js';

/**
 * The edge's sink in queue mode: BullMQ "calls" behind a disk spool. Its producer connection fails
 * fast (no offline queue) so a dead Redis never slows the SIP side; batches go to the spool instead.
 * Two lanes: calls from numbers with a pending session (the pre-filter, kept by pub/sub and a
 * periodic reload) go first and are never shed; unsolicited calls are shed, counted, while the
 * workers are behind on them or Redis is near its memory ceiling.
 */
export function createQueueSink(
  config: RingproofConfig, redisUrl: string, metrics: QueueMetrics, logger: Logger, memory: RedisMemoryProbe,
): EventSink {
  const connection = createRedis(redisUrl, { role: 'producer', logger });
  const subscriber = createRedis(redisUrl, { role: 'client', logger });
  const prefix = bullmqPrefix(config.redis.keyPrefix);
  const keys = verifyKeys(prefix);
  const candidates = new PendingNumbers({
    subscriber, reader: connection, pendingKey: keys.pending, channel: keys.pendingChannel,
    reloadMs: config.pipeline.prefilterReloadSeconds * 1000, logger,
  });
  const pressure = new LanePressure({
    connection, prefix, memory,
    shedAfterMs: config.pipeline.shedAfterSeconds * 1000,
    memoryShedRatio: shedMemoryRatio(config.redis.memoryHighWaterPercent),
  });
  const spool = DiskSpool.open<CallEvent>({
    dir: join(config.stateDir, 'spool'),
    maxEvents: config.spool.maxEvents,
    logger,
  });
  const sink = new BullmqEventSink({
    connection,
    prefix,
    spool,
    batchSize: config.spool.batchSize,
    batchDelayMs: config.spool.batchDelayMs,
    metrics,
    logger,
    candidates,
    pressure,
  });
  return {
    publish: (e) => sink.publish(e),
    get ready() {
      return sink.ready;
    },
    async close() {
      pressure.close();
      candidates.close();
      await sink.close();
      subscriber.disconnect();
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}

/** Unsolicited calls are shed 10 points below the mark where session creation is refused. */
export function shedMemoryRatio(highWaterPercent: number): number {
  return Math.max(0.05, (highWaterPercent - 10) / 100);
}
