import { Counter, type Registry } from 'prom-client';
import type { HammeringConfig } from '../config/config-types.js';
import { maskNumber } from '../log/mask.js';
import type { CandidateFilter } from '../queue/pending-numbers.js';
import { reuseMetric } from '../metrics/reuse-metric.js';
import type { AutoBlocker } from './auto-blocker.js';
import { SampledLru, type LruSlot } from './sampled-lru.js';

export const HAMMERING_REASON = 'auto:hammering';

interface Window extends LruSlot {
  start: number;
  count: number;
}

export interface HammerDetectorOptions {
  config: HammeringConfig;
  /** The edge's pending-number pre-filter: a CLI it holds has a session, and is never counted. */
  candidates: CandidateFilter;
  /** Writes, logs, counts and reports the automatic entry. */
  blocker: AutoBlocker;
  registry: Registry;
}

/**
 * Anomaly detection at the edge: a CLI that keeps calling while it has no pending session (10 calls
 * within 60 s by default) is put on the blocklist for a while (reason auto:hammering), through the
 * same store as manual entries, so every edge enforces it, the API and CLI show and lift it, and an
 * `abuse.blocked` webhook reports it.
 *
 * Counted only while the pre-filter is in sync (otherwise "no pending session" cannot be told), and
 * only for calls not already blocked. Memory is bounded: at most `maxTracked` CLIs, kept in
 * least-recently-called order (SampledLru). Once full, a CLI not yet counted is
 * admitted one time in 16 and the least recently called one goes (counted in
 * ringproof_hammering_evictions_total), so a random-CLI flood churns the map 16 times slower and a
 * CLI that really hammers still gets in after a few more calls. Counts are exact from admission:
 * a flood can delay a block but never cause a wrong one.
 */
export class HammerDetector {
  private readonly counts: SampledLru<string, Window>;
  private readonly windowMs: number;

  constructor(private readonly opts: HammerDetectorOptions) {
    this.windowMs = opts.config.windowSeconds * 1000;
    const name = 'ringproof_hammering_evictions_total';
    const evictions = reuseMetric(opts.registry, name, () => new Counter({
      name, help: 'CLIs dropped from the hammering counters at abuse.hammering.maxTracked (a many-CLI flood)', registers: [opts.registry],
    }));
    this.counts = new SampledLru(opts.config.maxTracked, () => evictions.inc());
  }

  get tracked(): number {
    return this.counts.size;
  }

  /** One answered call from `cli` that is not blocked. */
  observe(cli: string, now: number): void {
    const candidates = this.opts.candidates;
    if (!candidates.synced || candidates.has(cli)) return;
    this.count(cli, now);
  }

  /** observe() once the pre-filter was asked: the pre-filter is in sync and `cli` has no session. */
  count(cli: string, now: number): void {
    const w = this.counts.get(cli);
    if (w === undefined) {
      this.counts.admit(cli, { start: now, count: 1, lruSeq: 0 });
      return;
    }
    if (now - w.start >= this.windowMs) {
      w.start = now;
      w.count = 1;
    } else if (++w.count >= this.opts.config.maxCalls) {
      // Blocked: the edge tells no more of its calls, so it is forgotten here.
      this.counts.delete(cli);
      this.block(cli, w.count, now);
    }
  }

  private block(cli: string, calls: number, now: number): void {
    const { windowSeconds, blockSeconds } = this.opts.config;
    this.opts.blocker.block({
      input: {
        kind: 'number', value: cli, reason: HAMMERING_REASON,
        note: `${calls} calls within ${windowSeconds} s with no pending session`, expiresAt: now + blockSeconds * 1000,
      },
      event: { type: 'abuse.blocked', subject: { kind: 'number', value: cli }, detail: { calls, windowSeconds, by: 'edge' } },
      log: { cli: maskNumber(cli), calls, windowSeconds },
      message: 'automatic block: CLI hammering without a pending session',
    }, now);
  }
}
