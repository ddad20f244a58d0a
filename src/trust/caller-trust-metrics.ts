import { Counter, type Registry } from 'prom-client';

export interface CallerTrustMetrics {
  /** Calls that matched a pending session and were refused by the caller-trust policy, by reason. */
  readonly refusals: Counter<'reason'>;
}

/** On the process registry; safe to call twice for one registry (the metric is reused). */
export function createCallerTrustMetrics(registry: Registry): CallerTrustMetrics {
  const name = 'ringproof_caller_trust_refusals_total';
  const refusals = (registry.getSingleMetric(name) as Counter<'reason'> | undefined) ?? new Counter({
    name,
    help: 'Calls that matched a pending verification but did not verify it because of the caller-trust policy, by reason (caller_id_failed, caller_id_attestation_low)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  return { refusals };
}
