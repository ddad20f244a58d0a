import { Counter, Gauge, type Registry } from 'prom-client';
import type { CounterChild } from '../metrics/count-batch.js';

/** Distinct reasons given a label of their own; further ones count as "other" (operators write reasons). */
const MAX_REASON_LABELS = 100;

export interface BlocklistMetrics {
  /** Entries in this edge's copy of the blocklist. */
  readonly entries: Gauge;
  /** The counter slot of one (kind, reason): keep it, a blocked call costs an increment (flushed when read). */
  blocked(kind: string, reason: string): CounterChild;
}

/**
 * A blocked-calls slot counted in a plain number on the call path and handed to prom-client when
 * the counter is read (its collect()), so a blocked call costs an increment, not prom-client's label
 * hashing. Readers see exact values: every read flushes.
 */
class BatchedChild implements CounterChild {
  n = 0;
  constructor(readonly child: CounterChild) {}
  inc(n = 1): void {
    this.n += n;
  }
}

/** The batched slots of each blocked-calls counter (one registry's counter may serve several edges). */
const slotsOf = new WeakMap<object, BatchedChild[]>();

function flushSlots(counter: object): void {
  for (const s of slotsOf.get(counter) ?? []) {
    if (s.n !== 0) {
      const n = s.n;
      s.n = 0;
      s.child.inc(n);
    }
  }
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
    collect() {
      flushSlots(this);
    },
  }));
  let slots = slotsOf.get(blockedCalls);
  if (slots === undefined) slotsOf.set(blockedCalls, (slots = []));
  const all = slots;
  const children = new Map<string, CounterChild>();
  return {
    entries,
    blocked(kind, reason) {
      const key = `${kind}|${reason}`;
      let child = children.get(key);
      if (child === undefined) {
        const label = children.size < MAX_REASON_LABELS ? reason : 'other';
        const slot = new BatchedChild(blockedCalls.labels({ kind, reason: label }));
        all.push(slot);
        child = slot;
        children.set(key, child);
      }
      return child;
    },
  };
}
