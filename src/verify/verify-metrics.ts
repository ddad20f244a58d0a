import { Counter, Histogram, type Registry } from 'prom-client';
import { metricReuser } from '../metrics/reuse-metric.js';

export interface VerifyMetrics {
  readonly callOutcomes: Counter<'outcome'>;
  readonly inviteToVerified: Histogram;
  readonly verificationsCreated: Counter;
  readonly verificationsExpired: Counter;
}

/** 1 ms .. 5 s: the target is "well under 500 ms" from INVITE to verified. */
export const INVITE_TO_VERIFIED_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

/**
 * The verification metrics on the process registry. Safe to call more than once per registry (the
 * store and both workers may each ask for them in an all-in-one process): existing ones are reused.
 */
export function createVerifyMetrics(registry: Registry): VerifyMetrics {
  const reuse = metricReuser(registry);
  return {
    callOutcomes: reuse('ringproof_call_outcomes_total', () => new Counter({
      name: 'ringproof_call_outcomes_total',
      help: 'Calls decided, by outcome (verified, unsolicited, withheld, duplicate, late, invalid, rejected, blocked): by the verify worker, or by the edge for calls its exact pending-number copy shows cannot match a session',
      labelNames: ['outcome'] as const,
      registers: [registry],
    })),
    inviteToVerified: reuse('ringproof_invite_to_verified_seconds', () => new Histogram({
      name: 'ringproof_invite_to_verified_seconds',
      help: 'Time from INVITE receipt at the edge to the session being verified in Redis',
      buckets: INVITE_TO_VERIFIED_BUCKETS,
      registers: [registry],
    })),
    verificationsCreated: reuse('ringproof_verifications_created_total', () => new Counter({
      name: 'ringproof_verifications_created_total',
      help: 'Verification sessions created (idempotent replays not counted)',
      registers: [registry],
    })),
    verificationsExpired: reuse('ringproof_verifications_expired_total', () => new Counter({
      name: 'ringproof_verifications_expired_total',
      help: 'Verification sessions that expired without a matching call',
      registers: [registry],
    })),
  };
}
