import { Counter, Gauge, type Registry } from 'prom-client';
import type { PrefilterCounters } from './edge-prefilter.js';
import type { QueueDepthProbe } from './queue-depth-probe.js';

export type PublishResult = 'queued' | 'spooled' | 'overflow' | 'shed' | 'decided';

/** The edge decider as the metrics read it (EdgePrefilter). */
export interface PrefilterSource {
  flushCounts(c: PrefilterCounters): void;
  readonly watermarkAgeMs: number;
}

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
  /** Calls the edge decided itself (they cannot match a session), by outcome. */
  readonly prefilterDecided: Counter<'outcome'>;
  readonly prefilterHeld: Counter;
  readonly prefilterHoldOverflow: Counter;
  readonly prefilterAggregateDropped: Counter;
  readonly prefilterWatermarkAge: Gauge;
  watchSpool(spool: { readonly size: number }): void;
  watchQueues(probe: QueueDepthProbe): void;
  /** `outcomes`: ringproof_call_outcomes_total, so edge decisions show there as the worker's do. */
  watchPrefilter(source: PrefilterSource, outcomes?: PrefilterCounters['outcomes']): void;
}

export function createQueueMetrics(registry: Registry): QueueMetrics {
  let spool: { readonly size: number } | undefined;
  let probe: QueueDepthProbe | undefined;
  let depths: Promise<void> | undefined;
  let prefilter: PrefilterSource | undefined;
  let outcomes: PrefilterCounters['outcomes'];
  // The edge decider counts in plain numbers on the call path; every read of these hands them over.
  const flushPrefilter = (): void => {
    prefilter?.flushCounts({
      decided: prefilterDecided, published: eventsPublished, held: prefilterHeld, overflow: prefilterHoldOverflow,
      dropped: prefilterAggregateDropped, ...(outcomes ? { outcomes } : {}),
    });
  };
  const counter = (name: string, help: string): Counter =>
    new Counter({ name, help, registers: [registry], collect: flushPrefilter });
  const eventsPublished = new Counter({
    name: 'ringproof_events_published_total',
    help: 'CallEvents handed to the queue path, by first fate: queued (Redis), spooled (disk), overflow (dropped: spool full), shed (unsolicited, dropped while the pipeline was behind), decided (at the edge: it cannot match a session; counted in aggregate)',
    labelNames: ['result'] as const,
    registers: [registry],
    collect: flushPrefilter,
  });
  const prefilterDecided = new Counter({
    name: 'ringproof_prefilter_decided_total',
    help: 'Calls the edge decided itself, without per-call Redis work, because its exact copy of the pending numbers shows they cannot match a session, by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect: flushPrefilter,
  });
  const prefilterHeld = counter('ringproof_prefilter_held_total',
    'Calls held at the edge until the pending-number copy was known current for their arrival time (a few tens of ms)');
  const prefilterHoldOverflow = counter('ringproof_prefilter_hold_overflow_total',
    'Calls the edge could not decide because its hold buffer was full or the watermark stopped moving; they took the queue path');
  const prefilterAggregateDropped = counter('ringproof_prefilter_aggregate_dropped_total',
    'Updates of the edge-decided calls\' counts, talkers or noise trail dropped because Redis stayed away and the pending data was at its bound');

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
    eventsPublished,
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
    prefilterDecided,
    prefilterHeld,
    prefilterHoldOverflow,
    prefilterAggregateDropped,
    prefilterWatermarkAge: new Gauge({
      name: 'ringproof_prefilter_watermark_age_seconds',
      help: 'Age of the edge\'s proof that its pending-number copy is complete (sent time of the last answered probe); +Inf while the copy is not exact (the edge then decides nothing itself)',
      registers: [registry],
      collect() {
        if (prefilter) this.set(prefilter.watermarkAgeMs / 1000);
      },
    }),
    watchSpool(s) { spool = s; },
    watchQueues(p) { probe = p; },
    watchPrefilter(p, o) { prefilter = p; outcomes = o; },
  };
}
