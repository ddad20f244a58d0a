import { join } from 'node:path';
import type { Logger } from 'pino';
import type { RingproofConfig } from '../config/config-types.js';
import type { CallEvent } from '../edge/call-event.js';
import type { EventSink } from '../edge/event-sink.js';
import { BullmqEventSink } from '../queue/bullmq-event-sink.js';
import { EdgeAggregate } from '../queue/edge-aggregate.js';
import { EdgePrefilter } from '../queue/edge-prefilter.js';
import { LanePressure } from '../queue/lane-pressure.js';
import { PendingNumbers, type CandidateFilter } from '../queue/pending-numbers.js';
import type { QueueMetrics } from '../queue/queue-metrics.js';
import { bullmqPrefix, createRedis } from '../redis/redis-connection.js';
import type { RedisMemoryProbe } from '../redis/redis-memory-probe.js';
import { replicaWaitFor } from '../redis/replica-wait.js';
import { DiskSpool } from '../spool/disk-spool.js';
import { verifyKeys } from '../verify/verify-keys.js';

/**
 * The edge's sink in queue mode: BullMQ "calls" behind a disk spool. Its producer connection fails
 * fast (no offline queue) so a dead Redis never slows the SIP side; batches go to the spool instead.
 * Two lanes: calls from numbers with a pending session (the pre-filter, kept by pub/sub and a
 * periodic reload) go first and are never shed; unsolicited calls are shed, counted, while the
 * workers are behind on them or Redis is near its memory ceiling. With the pre-filter's watermark
 * (pipeline.prefilterWatermarkMs), the calls that cannot match a session are decided here and
 * counted in aggregate (EdgePrefilter, EdgeAggregate): no per-call Redis work for a flood.
 */
export function createQueueSink(
  config: RingproofConfig, redisUrl: string, metrics: QueueMetrics, logger: Logger, memory: RedisMemoryProbe,
  outcomes?: { inc(labels: { outcome: string }, n: number): void },
): EventSink & { readonly candidates: CandidateFilter } {
  const connection = createRedis(redisUrl, { role: 'producer', logger });
  const subscriber = createRedis(redisUrl, { role: 'client', logger });
  const prefix = bullmqPrefix(config.redis.keyPrefix);
  const keys = verifyKeys(prefix);
  const candidates = new PendingNumbers({
    subscriber, reader: connection, pendingKey: keys.pending, channel: keys.pendingChannel,
    reloadMs: config.pipeline.prefilterReloadSeconds * 1000, watermarkMs: config.pipeline.prefilterWatermarkMs, logger,
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
    replicas: replicaWaitFor(config.redis, connection, logger),
  });
  const watermarkMs = config.pipeline.prefilterWatermarkMs;
  const aggregate = watermarkMs > 0 ? new EdgeAggregate({ connection, keys, audit: config.audit, logger }) : undefined;
  const prefilter = aggregate ? new EdgePrefilter({
    filter: candidates, aggregate, toQueue: (e, candidate) => sink.enqueue(e, candidate),
    // The watermark is a PING round trip behind; past 20 periods (at least 1 s) Redis is not answering.
    staleMs: Math.max(1000, 20 * watermarkMs),
  }) : undefined;
  if (prefilter) {
    sink.attachPrefilter(prefilter);
    metrics.watchPrefilter(prefilter, outcomes);
  }
  return {
    // The abuse detector at the edge asks it whether a CLI has a pending session.
    candidates,
    publish: (e) => sink.publish(e),
    get ready() {
      return sink.ready;
    },
    async close() {
      pressure.close();
      // Held calls go to the queue path first, then the last counts are written, then the queue.
      prefilter?.close();
      candidates.close();
      await aggregate?.close();
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
