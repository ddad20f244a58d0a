import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { metricReuser } from '../metrics/reuse-metric.js';

export interface NumberMetrics {
  /** Sessions created, by the number's country and type (idempotent replays not counted). */
  readonly creations: Counter<'method' | 'country' | 'type'>;
  readonly refusals: Counter<'method' | 'country' | 'type' | 'rule'>;
  readonly denyPrefixes: Gauge;
  readonly denyPrefixReloads: Counter<'result'>;
  /** Carrier lookups by result: ok, unknown, cache_hit, or a failure (timeout, http_error, bad_response, connect_error, egress_refused). */
  readonly carrierLookups: Counter<'result'>;
  /** Seconds per carrier lookup request (cache hits not included), by the same result. */
  readonly carrierLookupSeconds: Histogram<'result'>;
}

/** On the process registry; a second call (API and CLI harnesses) reuses what is there. */
export function createNumberMetrics(registry: Registry): NumberMetrics {
  const reuse = metricReuser(registry);
  return {
    creations: reuse('ringproof_number_creations_total', () => new Counter({
      name: 'ringproof_number_creations_total',
      help: 'Verifications created, by method and the number\'s country and type',
      labelNames: ['method', 'country', 'type'] as const,
      registers: [registry],
    })),
    refusals: reuse('ringproof_number_refusals_total', () => new Counter({
      name: 'ringproof_number_refusals_total',
      help: 'Verification creations refused by the number policy, by method, country, type and rule',
      labelNames: ['method', 'country', 'type', 'rule'] as const,
      registers: [registry],
    })),
    denyPrefixes: reuse('ringproof_number_deny_prefixes', () => new Gauge({
      name: 'ringproof_number_deny_prefixes',
      help: 'Entries of the number deny-prefix list in force',
      registers: [registry],
    })),
    denyPrefixReloads: reuse('ringproof_number_deny_prefix_reloads_total', () => new Counter({
      name: 'ringproof_number_deny_prefix_reloads_total',
      help: 'Reloads of the number deny-prefix list, by result (ok, error: the previous list stays in force)',
      labelNames: ['result'] as const,
      registers: [registry],
    })),
    carrierLookups: reuse('ringproof_number_carrier_lookups_total', () => new Counter({
      name: 'ringproof_number_carrier_lookups_total',
      help: 'Carrier line-type lookups at creation, by result (ok, unknown, cache_hit, timeout, http_error, bad_response, connect_error, egress_refused)',
      labelNames: ['result'] as const,
      registers: [registry],
    })),
    carrierLookupSeconds: reuse('ringproof_number_carrier_lookup_seconds', () => new Histogram({
      name: 'ringproof_number_carrier_lookup_seconds',
      help: 'Duration of carrier lookup requests (cache hits excluded), by result',
      labelNames: ['result'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    })),
  };
}
