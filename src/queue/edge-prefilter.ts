import type { CallEvent } from '../edge/call-event.js';
import type { EdgeAggregate, EdgeOutcome } from './edge-aggregate.js';
import type { WatermarkedFilter } from './pending-numbers.js';

/** Where the metrics of the edge's decisions go (QueueMetrics, and the call outcomes counter). */
export interface PrefilterCounters {
  decided: { inc(labels: { outcome: EdgeOutcome }, n: number): void };
  published: { inc(labels: { result: 'decided' }, n: number): void };
  held: { inc(n: number): void };
  overflow: { inc(n: number): void };
  dropped: { inc(n: number): void };
  outcomes?: { inc(labels: { outcome: string }, n: number): void };
}

export interface EdgePrefilterOptions {
  filter: WatermarkedFilter;
  aggregate: EdgeAggregate;
  /** A call the edge does not decide goes back to the queue path: candidate lane or unsolicited lane. */
  toQueue: (e: CallEvent, candidate: boolean) => void;
  /** Calls held at most (about 2 s at the highest rate we serve); past it, the queue path. */
  maxHeld?: number;
  /** Hold only while the watermark is younger than this; held calls older than it go to the queue path. */
  staleMs: number;
}

interface HeldGroup {
  /** Probe number when its calls arrived: they are decidable once the watermark passes it. */
  seq: number;
  at: number;
  events: CallEvent[];
}

export const DEFAULT_MAX_HELD = 32_768;

/**
 * Decides at the edge the calls that cannot match a pending session, so a flood of them costs no
 * per-call Redis work (EdgeAggregate counts them). The sink offers every call whose CLI is not in the
 * pending-number copy:
 *
 * - copy not exact (no watermark: not subscribed, not reloaded since, Redis Cluster, turned off)
 *   → refused: the queue path, as before; nothing is decided on a copy that may be stale;
 * - no usable CLI or DID → decided at once (withheld / invalid), it can match nothing;
 * - otherwise held, in arrival order, until the watermark passes the probe sent after its arrival;
 *   then checked again: a candidate now (its session's announcement was still on the wire) goes to
 *   the candidate lane, any other is decided "unsolicited".
 *
 * If the copy stops being exact, or the watermark does not move for `staleMs`, held calls go to the
 * queue path (counted as hold overflow), as do calls past `maxHeld`.
 */
export class EdgePrefilter {
  private readonly opts: EdgePrefilterOptions;
  private readonly maxHeld: number;
  private groups: HeldGroup[] = [];
  private heldCount = 0;
  private newlyHeld = 0;
  private overflowed = 0;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(opts: EdgePrefilterOptions) {
    this.opts = opts;
    this.maxHeld = opts.maxHeld ?? DEFAULT_MAX_HELD;
    opts.filter.listen({ advanced: () => this.release(), lost: () => this.flushToQueue(Infinity) });
    this.timer = setInterval(() => this.flushToQueue(opts.staleMs), Math.max(10, opts.staleMs / 4));
    this.timer.unref();
  }

  /** Calls held now. */
  get held(): number {
    return this.heldCount;
  }

  get watermarkAgeMs(): number {
    return this.opts.filter.watermarkAgeMs;
  }

  /** True when the edge took the call (held or decided); false: the caller queues it. */
  offer(e: CallEvent): boolean {
    if (this.closed) return false;
    const f = this.opts.filter;
    if (f.watermark === 0) return false;
    if (e.cli === null || e.did === null) {
      this.opts.aggregate.add(e);
      return true;
    }
    if (this.heldCount >= this.maxHeld || f.watermarkAgeMs > this.opts.staleMs) {
      this.overflowed++;
      return false;
    }
    const seq = f.sent;
    let g = this.groups[this.groups.length - 1];
    if (g === undefined || g.seq !== seq) this.groups.push((g = { seq, at: Date.now(), events: [] }));
    g.events.push(e);
    this.heldCount++;
    this.newlyHeld++;
    return true;
  }

  /** Hands the pending counts to prom-client (at scrape time). */
  flushCounts(c: PrefilterCounters): void {
    const counts = this.opts.aggregate.counts;
    let decided = 0;
    for (const outcome of Object.keys(counts.decided) as EdgeOutcome[]) {
      const n = counts.decided[outcome];
      if (n === 0) continue;
      counts.decided[outcome] = 0;
      decided += n;
      c.decided.inc({ outcome }, n);
      c.outcomes?.inc({ outcome }, n);
    }
    if (decided > 0) c.published.inc({ result: 'decided' }, decided);
    if (this.newlyHeld > 0) c.held.inc(this.newlyHeld);
    if (this.overflowed > 0) c.overflow.inc(this.overflowed);
    if (counts.dropped > 0) c.dropped.inc(counts.dropped);
    this.newlyHeld = 0;
    this.overflowed = 0;
    counts.dropped = 0;
  }

  /** Held calls go to the queue path; later offers are refused. */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.flushToQueue(Infinity, false);
  }

  /** The watermark moved: decide every held call that arrived before its probe was sent. */
  private release(): void {
    const w = this.opts.filter.watermark;
    const { filter, aggregate, toQueue } = this.opts;
    while (this.groups.length > 0 && (this.groups[0] as HeldGroup).seq < w) {
      const g = this.groups.shift() as HeldGroup;
      this.heldCount -= g.events.length;
      for (const e of g.events) {
        if (filter.has(e.cli as string)) toQueue(e, true);
        else aggregate.add(e);
      }
    }
  }

  /** Held calls older than `ageMs` (all: Infinity) go to the queue path. */
  private flushToQueue(ageMs: number, overflow = true): void {
    const now = Date.now();
    const { filter, toQueue } = this.opts;
    while (this.groups.length > 0) {
      const g = this.groups[0] as HeldGroup;
      if (ageMs !== Infinity && now - g.at <= ageMs) break;
      this.groups.shift();
      this.heldCount -= g.events.length;
      if (overflow) this.overflowed += g.events.length;
      for (const e of g.events) toQueue(e, filter.has(e.cli as string));
    }
  }
}
