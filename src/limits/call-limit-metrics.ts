import { Counter, type Registry } from 'prom-client';

export interface CallLimitMetrics {
  /** Candidate calls over a call limit (they cannot verify), by the limit named. */
  readonly limited: Counter<'limit'>;
}

/** On the process registry; a second call (several workers in one test) reuses what is there. */
export function createCallLimitMetrics(registry: Registry): CallLimitMetrics {
  const name = 'ringproof_call_limited_total';
  const limited = (registry.getSingleMetric(name) as Counter<'limit'> | undefined) ?? new Counter({
    name,
    help: 'Candidate calls (their CLI has a pending session) over a call limit, which never verify (perCliDids, perCli, perDid, perTrunk)',
    labelNames: ['limit'] as const,
    registers: [registry],
  });
  return { limited };
}
