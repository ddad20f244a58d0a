import { Counter, type Registry } from 'prom-client';
import type { HammeringConfig } from '../config/config-types.js';
import type { Logger } from '../log/logger.js';
import { maskNumber } from '../log/mask.js';
import type { CandidateFilter } from '../queue/pending-numbers.js';
import type { AbuseEventSink } from './abuse-event.js';
import type { BlocklistEntry, BlocklistInput } from './blocklist-entry.js';

export const HAMMERING_REASON = 'auto:hammering';

/** A CLI admitted to the counters once the map is full: one new CLI in this many. */
const ADMIT_ONE_IN = 16;

interface Window {
  start: number;
  count: number;
}

export interface HammerDetectorOptions {
  config: HammeringConfig;
  /** The edge's pending-number pre-filter: a CLI it holds has a session, and is never counted. */
  candidates: CandidateFilter;
  /** Writes the automatic entry (BlocklistStore.add with createdBy "auto"). */
  add: (input: BlocklistInput) => Promise<BlocklistEntry>;
  /** Puts the entry in this edge's copy at once, before the announcement comes back. */
  putLocal: (entry: BlocklistEntry) => void;
  events: AbuseEventSink;
  logger: Logger;
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
 * least-recently-called order (a hit moves a CLI to the end). Once full, a CLI not yet counted is
 * admitted one time in 16 and the least recently called one goes (counted in
 * ringproof_hammering_evictions_total), so a random-CLI flood churns the map 16 times slower and a
 * CLI that really hammers still gets in after a few more calls. Counts are exact from admission:
 * a flood can delay a block but never cause a wrong one.
 */
export class HammerDetector {
  private readonly counts = new Map<string, Window>();
  private readonly windowMs: number;
  private admitTick = 0;
  private readonly blocks: Counter<'reason' | 'result'>;
  private readonly evictions: Counter;

  constructor(private readonly opts: HammerDetectorOptions) {
    this.windowMs = opts.config.windowSeconds * 1000;
    const reuse = <T>(name: string, make: () => T): T => (opts.registry.getSingleMetric(name) as T | undefined) ?? make();
    this.blocks = reuse('ringproof_auto_blocks_total', () => new Counter({
      name: 'ringproof_auto_blocks_total',
      help: 'Automatic blocklist entries written by the edge (reason auto:hammering), by result (ok, failed)',
      labelNames: ['reason', 'result'] as const,
      registers: [opts.registry],
    }));
    this.evictions = reuse('ringproof_hammering_evictions_total', () => new Counter({
      name: 'ringproof_hammering_evictions_total',
      help: 'CLIs dropped from the hammering counters at abuse.hammering.maxTracked (a many-CLI flood)',
      registers: [opts.registry],
    }));
  }

  get tracked(): number {
    return this.counts.size;
  }

  /** One answered call from `cli` that is not blocked. */
  observe(cli: string, now: number): void {
    const candidates = this.opts.candidates;
    if (!candidates.synced || candidates.has(cli)) return;
    const w = this.counts.get(cli);
    if (w === undefined) {
      if (this.counts.size >= this.opts.config.maxTracked) {
        if (++this.admitTick % ADMIT_ONE_IN !== 0) return;
        const oldest = this.counts.keys().next();
        if (!oldest.done) this.counts.delete(oldest.value);
        this.evictions.inc();
      }
      this.counts.set(cli, { start: now, count: 1 });
      return;
    }
    // Least recently called first: a hit moves the CLI to the end.
    this.counts.delete(cli);
    if (now - w.start >= this.windowMs) {
      w.start = now;
      w.count = 1;
    } else if (++w.count >= this.opts.config.maxCalls) {
      this.block(cli, w.count, now);
      return;
    }
    this.counts.set(cli, w);
  }

  private block(cli: string, calls: number, now: number): void {
    const { config, logger } = this.opts;
    const input: BlocklistInput = {
      kind: 'number', value: cli, reason: HAMMERING_REASON,
      note: `${calls} calls within ${config.windowSeconds} s with no pending session`,
      expiresAt: now + config.blockSeconds * 1000,
    };
    this.opts.putLocal({ ...input, createdAt: now, createdBy: 'auto' });
    const expiresAt = new Date(input.expiresAt as number).toISOString();
    this.opts.add(input).then(
      () => {
        this.blocks.inc({ reason: HAMMERING_REASON, result: 'ok' });
        logger.warn({ cli: maskNumber(cli), reason: HAMMERING_REASON, calls, windowSeconds: config.windowSeconds, expiresAt }, 'automatic block: CLI hammering without a pending session');
        this.opts.events.emit({
          type: 'abuse.blocked', subject: { kind: 'number', value: cli }, reason: HAMMERING_REASON, expiresAt: input.expiresAt, at: now,
          detail: { calls, windowSeconds: config.windowSeconds, by: 'edge' },
        });
      },
      (err: Error) => {
        this.blocks.inc({ reason: HAMMERING_REASON, result: 'failed' });
        logger.warn({ cli: maskNumber(cli), reason: HAMMERING_REASON, err: err.message }, 'automatic block not stored (Redis unavailable): in force on this edge only until its next reload');
      },
    );
  }
}
