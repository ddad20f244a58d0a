import { join } from 'node:path';
import type { Logger } from 'pino';
import type { RingproofConfig } from '../config/config-types.js';
import type { CallEvent } from '../edge/call-event.js';
import type { EventSink } from '../edge/event-sink.js';
import { BullmqEventSink } from '../queue/bullmq-event-sink.js';
import type { QueueMetrics } from '../queue/queue-metrics.js';
import { bullmqPrefix, createRedis } from '../redis/redis-connection.js';
import { DiskSpool } from '../spool/disk-spool.js';

/**
 * The edge's sink in queue mode: BullMQ "calls" behind a disk spool. Its producer connection fails
 * fast (no offline queue) so a dead Redis never slows the SIP side; batches go to the spool instead.
 */
export function createQueueSink(config: RingproofConfig, redisUrl: string, metrics: QueueMetrics, logger: Logger): EventSink {
  const connection = createRedis(redisUrl, { role: 'producer', logger });
  const spool = DiskSpool.open<CallEvent>({
    dir: join(config.stateDir, 'spool'),
    maxEvents: config.spool.maxEvents,
    logger,
  });
  const sink = new BullmqEventSink({
    connection,
    prefix: bullmqPrefix(config.redis.keyPrefix),
    spool,
    batchSize: config.spool.batchSize,
    batchDelayMs: config.spool.batchDelayMs,
    metrics,
    logger,
  });
  return {
    publish: (e) => sink.publish(e),
    get ready() {
      return sink.ready;
    },
    async close() {
      await sink.close();
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
