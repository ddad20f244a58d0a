import { Counter, Gauge, type Registry } from 'prom-client';
import type { QueueDepthProbe } from './queue-depth-probe.js';

export type PublishResult = 'queued' | 'spooled' | 'overflow' | 'shed';

/**
 * Metrics of the edge → queue path, on the process registry. The gauges are filled at scrape time
 * from the sources given to watchSpool()/watchQueues(), so they cost nothing between scrapes.
 */
export interface QueueMetrics {
  /** Each event counted once, by its first fate: sent to Redis, written to the spool, or dropped. */
  readonly eventsPublished: Counter<'result'>;
  readonly spoolEvents: Gauge;
  readonly spoolOverflow: Counter;
  /** Events moved from the spool to Redis after an outage. */
  readonly spoolDrained: Counter;
  /** Acknowledged events sent again after the connection to Redis was lost (see BullmqEventSink). */
  readonly eventsResent: Counter;
  readonly queueDepth: Gauge<'queue'>;
  readonly queueDelayed: Gauge<'queue'>;
  readonly queueFailed: Gauge<'queue'>;
  watchSpool(spool: { readonly size: number }): void;
  watchQueues(probe: QueueDepthProbe): void;
}

export function createQueueMetrics(registry: Registry): QueueMetrics {
  let spool: { readonly size: number } | undefined;
  let probe: QueueDepthProbe | undefined;
  let depths: Promise<void> | undefined;

  // The three queue gauges share one probe read per scrape.
  const refreshDepths = (): Promise<void> => {
    depths ??= (async () => {
      const d = probe ? await probe.read() : undefined;
      queueDepth.reset();
      queueDelayed.reset();
      queueFailed.reset();
      // No data (Redis down): leave the series absent rather than report stale numbers.
      for (const [queue, v] of d ?? []) {
        queueDepth.set({ queue }, v.depth);
        queueDelayed.set({ queue }, v.delayed);
        queueFailed.set({ queue }, v.failed);
      }
    })().finally(() => { setImmediate(() => { depths = undefined; }); });
    return depths;
  };

  // The three gauges are filled together by one probe read per scrape.
  const queueGauge = (name: string, help: string): Gauge<'queue'> =>
    new Gauge({ name, help, labelNames: ['queue'] as const, registers: [registry], collect: refreshDepths });
  const queueDepth = queueGauge('ringproof_queue_depth', 'BullMQ jobs waiting, prioritized or active, by queue');
  const queueDelayed = queueGauge('ringproof_queue_delayed', 'BullMQ jobs scheduled for later (retry backoff, expiry timers), by queue');
  const queueFailed = queueGauge('ringproof_queue_failed', 'BullMQ jobs failed for good and kept for inspection, by queue');

  return {
    eventsPublished: new Counter({
      name: 'ringproof_events_published_total',
      help: 'CallEvents handed to the queue path, by first fate: queued (Redis), spooled (disk), overflow (dropped: spool full), shed (unsolicited, dropped while the pipeline was behind)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    spoolEvents: new Gauge({
      name: 'ringproof_spool_events',
      help: 'CallEvents held in the local disk spool waiting for Redis',
      registers: [registry],
      collect() {
        if (spool) this.set(spool.size);
      },
    }),
    spoolOverflow: new Counter({
      name: 'ringproof_spool_overflow_total',
      help: 'CallEvents dropped because the spool was full or could not be written',
      registers: [registry],
    }),
    spoolDrained: new Counter({
      name: 'ringproof_spool_drained_total',
      help: 'CallEvents moved from the disk spool to Redis after an outage',
      registers: [registry],
    }),
    eventsResent: new Counter({
      name: 'ringproof_events_resent_total',
      help: 'CallEvents Redis had acknowledged shortly before a lost connection, sent again in case it lost them (deduplicated by the worker)',
      registers: [registry],
    }),
    queueDepth,
    queueDelayed,
    queueFailed,
    watchSpool(s) { spool = s; },
    watchQueues(p) { probe = p; },
  };
}
