import type { Metrics } from './metrics.js';

/** A prom-client counter child (one label set). */
export interface CounterChild {
  inc(n?: number): void;
}

/** Increments of one label set not yet handed to prom-client. */
export class PendingCount {
  n = 0;
  constructor(readonly child: CounterChild) {}
}

/**
 * Counts in plain numbers on the hot path and adds them to prom-client when the metrics are read
 * (Metrics.flushHooks run from the counters' collect()), so a SIP message costs an increment, not
 * prom-client's per-call label hashing and its garbage. Readers see exact values: every read flushes.
 */
export class CountBatch {
  private readonly pending: PendingCount[] = [];

  constructor(metrics: Pick<Metrics, 'flushHooks'>) {
    metrics.flushHooks.push(() => this.flush());
  }

  /** A counter slot for one child; keep it and bump `n`. */
  track(child: CounterChild): PendingCount {
    const p = new PendingCount(child);
    this.pending.push(p);
    return p;
  }

  flush(): void {
    for (const p of this.pending) {
      if (p.n !== 0) {
        const n = p.n;
        p.n = 0;
        p.child.inc(n);
      }
    }
  }
}
