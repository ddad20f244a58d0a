import { Counter, Gauge, type Registry } from 'prom-client';
import type { CounterChild } from '../metrics/count-batch.js';

/** Distinct reasons given a label of their own; further ones count as "other" (operators write reasons). */
const MAX_REASON_LABELS = 100;

export interface BlocklistMetrics {
  /** Entries in this edge's copy of the blocklist. */
  readonly entries: Gauge;
  /** The counter slot of one (kind, reason), cached so a blocked call costs an increment. */
  blocked(kind: string, reason: string): CounterChild;
}

/** On the process registry; a second call reuses what is there. */
export function createBlocklistMetrics(registry: Registry): BlocklistMetrics {
  const reuse = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
  const entries = reuse('ringproof_blocklist_entries', () => new Gauge({
    name: 'ringproof_blocklist_entries',
    help: "Entries in this edge's copy of the blocklist (numbers, prefixes and caller names)",
    registers: [registry],
  }));
  const blockedCalls = reuse('ringproof_blocked_calls_total', () => new Counter({
    name: 'ringproof_blocked_calls_total',
    help: 'Calls whose caller is on the blocklist (rejected on the wire, never verify), by entry kind and reason',
    labelNames: ['kind', 'reason'] as const,
    registers: [registry],
  }));
  const children = new Map<string, CounterChild>();
  return {
    entries,
    blocked(kind, reason) {
      const key = `${kind}|${reason}`;
      let child = children.get(key);
      if (child === undefined) {
        const label = children.size < MAX_REASON_LABELS ? reason : 'other';
        child = blockedCalls.labels({ kind, reason: label });
        children.set(key, child);
      }
      return child;
    },
  };
}
