import { Counter, Gauge, type Registry } from 'prom-client';

export interface FloodGuardMetrics {
  /** Source addresses banned right now. */
  readonly bans: Gauge;
  /** Bans imposed, by whether the source was a trunk address. */
  readonly bansTotal: Counter<'trunk'>;
  /** Sampling windows evicted because `abuse.floodGuard.maxSources` sources were already counted. */
  readonly evictions: Counter;
}

/** On the process registry; a second call (several edges in one test process) reuses what is there. */
export function createFloodGuardMetrics(registry: Registry): FloodGuardMetrics {
  const reuse = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
  return {
    bans: reuse('ringproof_flood_bans', () => new Gauge({
      name: 'ringproof_flood_bans',
      help: 'Source addresses the flood guard has banned right now',
      registers: [registry],
    })),
    bansTotal: reuse('ringproof_flood_bans_total', () => new Counter({
      name: 'ringproof_flood_bans_total',
      help: 'Flood-guard bans imposed, by whether the source was a trunk address (trunk="yes"/"no")',
      labelNames: ['trunk'] as const,
      registers: [registry],
    })),
    evictions: reuse('ringproof_flood_guard_evictions_total', () => new Counter({
      name: 'ringproof_flood_guard_evictions_total',
      help: 'Flood-guard sampling windows evicted because abuse.floodGuard.maxSources sources were already counted (a many-source flood)',
      registers: [registry],
    })),
  };
}
