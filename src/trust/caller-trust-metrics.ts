import { Counter, type Registry } from 'prom-client';
import { reuseMetric } from '../metrics/reuse-metric.js';

export interface CallerTrustMetrics {
  /** Calls that matched a pending session and were refused by the caller-trust policy, by reason. */
  readonly refusals: Counter<'reason'>;
  /** STIR/SHAKEN verdicts, by result, failure reason ('none' when there is none) and whether the call may verify. */
  readonly verdicts: Counter<'result' | 'reason' | 'verifies'>;
  /** Certificate loads that missed the cache, by source (local, x5u) and result (ok, failed). */
  readonly certificateLoads: Counter<'source' | 'result'>;
}

/** On the process registry; safe to call twice for one registry (the metrics are reused). */
export function createCallerTrustMetrics(registry: Registry): CallerTrustMetrics {
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> =>
    reuseMetric(registry, name, () => new Counter({ name, help, labelNames, registers: [registry] }));
  return {
    refusals: counter(
      'ringproof_caller_trust_refusals_total',
      'Calls that matched a pending verification but did not verify it because of the caller-trust policy, by reason (caller_id_failed, caller_id_attestation_low, caller_id_not_asserted; the trust settings or the session callerTrustPolicy)',
      ['reason'],
    ),
    verdicts: counter(
      'ringproof_caller_trust_verdicts_total',
      'STIR/SHAKEN verdicts (verstat and Identity) for candidate calls, by result, failure reason and whether the call may verify',
      ['result', 'reason', 'verifies'],
    ),
    certificateLoads: counter(
      'ringproof_caller_trust_certificate_loads_total',
      'STIR/SHAKEN signing certificates loaded on a cache miss, by source (local directory or x5u fetch) and result',
      ['source', 'result'],
    ),
  };
}
