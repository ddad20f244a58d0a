import { Counter, type Registry } from 'prom-client';
import type { EnumerationConfig } from '../config/config-types.js';
import type { CandidateFilter } from '../queue/pending-numbers.js';
import { reuseMetric } from '../metrics/reuse-metric.js';
import type { AutoBlocker } from './auto-blocker.js';
import { SampledLru } from './sampled-lru.js';

export const ENUMERATION_REASON = 'auto:enumeration';

interface Window {
  start: number;
  /**
   * Distinct numbers of the block seen in this window (at most maxDistinct), as the value of their
   * last suffixDigits digits: a small integer, not the CLI string, which is a slice of the INVITE's
   * text and would keep the whole message alive for up to windowSeconds (10,000 blocks × 19 CLIs
   * held ~190,000 INVITEs, ~120 MB, under a random-CLI flood).
   */
  suffixes: Set<number>;
}

/** The last `digits` characters of an E.164 "+digits" CLI as a number (CLIs are digits after "+"). */
function suffixValue(cli: string, digits: number): number {
  let v = 0;
  for (let i = cli.length - digits; i < cli.length; i++) v = v * 10 + (cli.charCodeAt(i) - 48);
  return v;
}

export interface EnumerationDetectorOptions {
  config: EnumerationConfig;
  /** The edge's pending-number pre-filter: a CLI it holds has a session, and is never counted. */
  candidates: CandidateFilter;
  blocker: AutoBlocker;
  registry: Registry;
}

/**
 * Anomaly detection at the edge: many distinct caller IDs from one number block (the number less
 * its last `suffixDigits` digits), none with a pending session, within a window — someone sweeping
 * a block of spoofed numbers to hit the one whose owner is verifying right now. The block is put on
 * the blocklist as a prefix for a while (reason auto:enumeration), so its calls stop verifying on
 * every edge while other blocks are untouched; the API and CLI show and lift it, and an
 * `abuse.flagged` webhook reports it. With the defaults (20 distinct numbers of a 10,000-number
 * block within 10 minutes) a sweep is stopped after 20 calls, ~1/500th of the way through.
 *
 * Counted only while the pre-filter is in sync, only for calls not already blocked, and never for a
 * CLI with a pending session. Memory is bounded like the hammering detector's: at most `maxTracked`
 * blocks (least recently called out first, new ones admitted one in 16 once full), each holding at
 * most `maxDistinct` numbers.
 */
export class EnumerationDetector {
  private readonly blocks: SampledLru<Window>;
  private readonly windowMs: number;

  constructor(private readonly opts: EnumerationDetectorOptions) {
    this.windowMs = opts.config.windowSeconds * 1000;
    const name = 'ringproof_enumeration_evictions_total';
    const evictions = reuseMetric(opts.registry, name, () => new Counter({
      name, help: 'Number blocks dropped from the enumeration counters at abuse.enumeration.maxTracked (a many-block flood)', registers: [opts.registry],
    }));
    this.blocks = new SampledLru(opts.config.maxTracked, () => evictions.inc());
  }

  get tracked(): number {
    return this.blocks.size;
  }

  /** One answered call from `cli` that is not blocked. */
  observe(cli: string, now: number): void {
    const { candidates, config } = this.opts;
    // "+" and at least one digit of block; shorter numbers are not swept in blocks.
    if (cli.length < config.suffixDigits + 3 || !candidates.synced || candidates.has(cli)) return;
    const block = cli.slice(0, cli.length - config.suffixDigits);
    const suffix = suffixValue(cli, config.suffixDigits);
    let w = this.blocks.take(block);
    if (w === undefined) {
      this.blocks.admit(block, { start: now, suffixes: new Set([suffix]) });
      return;
    }
    if (now - w.start >= this.windowMs) w = { start: now, suffixes: new Set() };
    w.suffixes.add(suffix);
    if (w.suffixes.size >= config.maxDistinct) {
      this.flag(block, w.suffixes.size, now);
      return;
    }
    this.blocks.put(block, w);
  }

  private flag(block: string, distinct: number, now: number): void {
    const { suffixDigits, windowSeconds, blockSeconds } = this.opts.config;
    const shown = `${block}${'X'.repeat(suffixDigits)}`;
    this.opts.blocker.block({
      input: {
        kind: 'prefix', value: block, reason: ENUMERATION_REASON,
        note: `${distinct} distinct numbers of ${shown} within ${windowSeconds} s, none with a pending session`,
        expiresAt: now + blockSeconds * 1000,
      },
      event: { type: 'abuse.flagged', subject: { kind: 'block', value: shown }, detail: { distinct, windowSeconds, by: 'edge' } },
      // The block without its last digits names no one.
      log: { block: shown, distinct, windowSeconds },
      message: 'automatic block: a number block is being enumerated',
    }, now);
  }
}
