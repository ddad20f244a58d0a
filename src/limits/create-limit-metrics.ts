import { Counter, type Registry } from 'prom-client';
import { metricReuser } from '../metrics/reuse-metric.js';

export interface CreateLimitMetrics {
  /** Creations refused with 429, by the limit that was full. */
  readonly limited: Counter<'limit'>;
  /** Creations refused with 503 because the counters could not be read (Redis unreachable). */
  readonly failures: Counter;
}

/** On the process registry; a second call (several API harnesses in one test) reuses what is there. */
export function createLimitMetrics(registry: Registry): CreateLimitMetrics {
  const reuse = metricReuser(registry);
  return {
    limited: reuse('ringproof_creation_limited_total', () => new Counter({
      name: 'ringproof_creation_limited_total',
      help: 'Verification creations refused with 429 by a creation limit (perNumber, perPrefix, perCountry, perApiKey, perClientIp, lowConversion)',
      labelNames: ['limit'] as const,
      registers: [registry],
    })),
    failures: reuse('ringproof_creation_limit_failures_total', () => new Counter({
      name: 'ringproof_creation_limit_failures_total',
      help: 'Verification creations refused with 503 because the creation-limit counters in Redis could not be reached',
      registers: [registry],
    })),
  };
}
