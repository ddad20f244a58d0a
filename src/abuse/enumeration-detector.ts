import { Counter, type Registry } from 'prom-client';
import type { EnumerationConfig } from '../config/config-types.js';
import type { CandidateFilter } from '../queue/pending-numbers.js';
import { reuseMetric } from '../metrics/reuse-metric.js';
import type { AutoBlocker } from './auto-blocker.js';
import { SampledLru, type LruSlot } from './sampled-lru.js';
import { detachString } from '../v8/detach-string.js';

export const ENUMERATION_REASON = 'auto:enumeration';

interface Window extends LruSlot {
  start: number;
  /**
   * Distinct CLIs of the block seen in this window (at most maxDistinct), by their suffix digits'
   * value: a number, not the CLI string, which is a slice of the INVITE's text and would keep the
   * whole message alive for up to windowSeconds (10,000 blocks × 19 CLIs held ~190,000 INVITEs, ~120
   * MB, under a random-CLI flood). A CLI that is not all digits is kept as a string of its own.
   */
  clis: Set<number | string>;
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
  private readonly blocks: SampledLru<number | string, Window>;
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
    const candidates = this.opts.candidates;
    if (!candidates.synced || candidates.has(cli)) return;
    this.count(cli, now);
  }

  /** observe() once the pre-filter was asked: the pre-filter is in sync and `cli` has no session. */
  count(cli: string, now: number): void {
    const config = this.opts.config;
    const cut = cli.length - config.suffixDigits;
    // "+" and at least two digits of block; shorter numbers are not swept in blocks.
    if (cut < 3) return;
    const key = blockKey(cli, cut);
    const suffix = key === undefined ? detachString(cli) : suffixValue(cli, cut);
    const block = key ?? cli.slice(0, cut);
    const w = this.blocks.get(block);
    if (w === undefined) {
      this.blocks.admit(block, { start: now, clis: new Set([suffix]), lruSeq: 0 });
      return;
    }
    if (now - w.start >= this.windowMs) {
      w.start = now;
      w.clis.clear();
    }
    w.clis.add(suffix);
    if (w.clis.size >= config.maxDistinct) {
      this.blocks.delete(block);
      this.flag(cli.slice(0, cut), w.clis.size, now);
    }
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

/**
 * The block of an E.164 number ("+", then digits, the first not 0) as a number: its digits' value,
 * unique among such blocks, hashed and compared without building the block string per call.
 * undefined for anything else (then the block string is the key).
 */
function blockKey(cli: string, cut: number): number | undefined {
  if (cli.charCodeAt(0) !== 0x2b || cli.charCodeAt(1) === 0x30 || cut > 16) return undefined;
  let v = 0;
  for (let i = 1; i < cut; i++) {
    const d = cli.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return undefined;
    v = v * 10 + d;
  }
  return v;
}

/** The value of the suffix digits (at most 8: suffixDigits' limit), or the CLI as a string of its own if one is no digit. */
function suffixValue(cli: string, cut: number): number | string {
  let v = 0;
  for (let i = cut; i < cli.length; i++) {
    const d = cli.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return detachString(cli);
    v = v * 10 + d;
  }
  return v;
}
