import { Counter, Histogram, type Registry } from 'prom-client';
import { metricReuser } from '../metrics/reuse-metric.js';
import type { TrunkAttempt, UacObserver } from '../sip/uac/index.js';

/** 100 ms .. 30 s: carriers take from a fraction of a second to many seconds to ring a phone. */
const POST_DIAL_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30];
/** 0 .. 30 s: the ring lasts outbound.minRingMs, unless the carrier ends it or it is answered first. */
const RING_BUCKETS = [0.05, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 20, 30];

/** The flash-call metrics (issue #12), on the process registry. */
export interface FlashMetrics {
  /** Trunk tries by outcome (rang, answered, failed) and failure class ("none" unless failed). */
  readonly attempts: Counter<'trunk' | 'outcome' | 'class'>;
  readonly postDialDelay: Histogram<'trunk'>;
  readonly ringTime: Histogram<'trunk'>;
  /** Calls a trunk's cap refused before anything was sent: `cap` cps or concurrency. */
  readonly capRejections: Counter<'trunk' | 'cap'>;
  /** Flash-call sessions verified by a report, by the trunk that rang and the number's country. */
  readonly verified: Counter<'trunk' | 'country'>;
}

export function createFlashMetrics(registry: Registry): FlashMetrics {
  const reuse = metricReuser(registry);
  return {
    attempts: reuse('ringproof_flash_attempts_total', () => new Counter({
      name: 'ringproof_flash_attempts_total',
      help: 'Flash-call trunk tries, by trunk, outcome (rang, answered, failed) and failure class (none unless failed)',
      labelNames: ['trunk', 'outcome', 'class'] as const,
      registers: [registry],
    })),
    postDialDelay: reuse('ringproof_flash_post_dial_delay_seconds', () => new Histogram({
      name: 'ringproof_flash_post_dial_delay_seconds',
      help: 'Flash calls: INVITE sent to the first 180/183, by trunk',
      labelNames: ['trunk'] as const,
      buckets: POST_DIAL_BUCKETS,
      registers: [registry],
    })),
    ringTime: reuse('ringproof_flash_ring_seconds', () => new Histogram({
      name: 'ringproof_flash_ring_seconds',
      help: 'Flash calls: first 180/183 to our CANCEL (or the final response), by trunk',
      labelNames: ['trunk'] as const,
      buckets: RING_BUCKETS,
      registers: [registry],
    })),
    capRejections: reuse('ringproof_flash_cap_rejections_total', () => new Counter({
      name: 'ringproof_flash_cap_rejections_total',
      help: 'Flash calls a trunk refused at its calls-per-second (cps) or concurrency cap, before anything was sent',
      labelNames: ['trunk', 'cap'] as const,
      registers: [registry],
    })),
    verified: reuse('ringproof_flash_verified_total', () => new Counter({
      name: 'ringproof_flash_verified_total',
      help: 'Flash-call sessions verified by a report, by the trunk that rang and the number\'s country',
      labelNames: ['trunk', 'country'] as const,
      registers: [registry],
    })),
  };
}

/** The UAC's observer feeding these metrics. */
export function flashUacObserver(m: FlashMetrics): UacObserver {
  return {
    attempt(a: TrunkAttempt): void {
      m.attempts.inc({ trunk: a.trunk, outcome: a.outcome, class: a.failureClass ?? 'none' });
      if (a.postDialDelayMs !== undefined) m.postDialDelay.observe({ trunk: a.trunk }, a.postDialDelayMs / 1000);
      if (a.ringMs !== undefined) m.ringTime.observe({ trunk: a.trunk }, a.ringMs / 1000);
    },
    refused(trunk, why): void {
      m.capRejections.inc({ trunk, cap: why });
    },
  };
}
