import { randomInt } from 'node:crypto';
import type { CliPoolEntry, OutboundTrunkConfig } from '../config/config-types.js';

/** One caller ID drawn for one flash call. */
export interface CliDraw {
  trunk: string;
  /** E.164 caller ID to send. */
  cli: string;
  /** The digits that carry the code: the drawn digits of a prefix entry, the last 4 of a full number. */
  code: string;
  entry: CliPoolEntry;
}

/** How a CLI's calls went, for resting CLIs that get answered (billed) or flagged too often. */
export type CliFeedback = 'rang' | 'answered' | 'failed' | 'flagged';

export interface CliPoolOptions {
  /** Outcomes remembered per entry. */
  window: number;
  /** Rest an entry when this share of its remembered calls was answered or flagged… */
  maxBadShare: number;
  /** …once at least this many calls are remembered. */
  minSamples: number;
  restMs: number;
  now: () => number;
}

export const DEFAULT_CLI_POOL_OPTIONS: CliPoolOptions = { window: 20, maxBadShare: 0.2, minSamples: 5, restMs: 3_600_000, now: Date.now };

const FULL_NUMBER_CODE_DIGITS = 4;

interface EntryState {
  entry: CliPoolEntry;
  recent: boolean[];
  restedUntil: number;
}

/**
 * The caller IDs of the outbound trunks: codes drawn at random (crypto), entries taken in rotation,
 * an entry rested for a while when too many of its calls are answered or flagged, and never the
 * same CLI for two attempts in progress to one number (so a report names one attempt).
 */
export class CliPool {
  private readonly byTrunk = new Map<string, EntryState[]>();
  private readonly cursor = new Map<string, number>();
  /** destination → CLIs of its attempts in progress. */
  private readonly inUse = new Map<string, Set<string>>();
  private readonly opts: CliPoolOptions;

  constructor(trunks: readonly OutboundTrunkConfig[], opts: Partial<CliPoolOptions> = {}) {
    this.opts = { ...DEFAULT_CLI_POOL_OPTIONS, ...opts };
    for (const t of trunks) this.byTrunk.set(t.name, t.cliPool.map((entry) => ({ entry, recent: [], restedUntil: 0 })));
  }

  /** A CLI for a call to `destination` through `trunk`; undefined when every entry is rested or in use for it. */
  draw(trunk: string, destination: string): CliDraw | undefined {
    const entries = this.byTrunk.get(trunk);
    if (entries === undefined || entries.length === 0) return undefined;
    const busy = this.inUse.get(destination);
    const now = this.opts.now();
    const start = this.cursor.get(trunk) ?? 0;
    for (let i = 0; i < entries.length; i++) {
      const idx = (start + i) % entries.length;
      const state = entries[idx] as EntryState;
      if (state.restedUntil > now) continue;
      const drawn = this.drawFrom(state.entry, busy);
      if (drawn === undefined) continue;
      this.cursor.set(trunk, idx + 1);
      if (busy) busy.add(drawn.cli);
      else this.inUse.set(destination, new Set([drawn.cli]));
      return { trunk, entry: state.entry, ...drawn };
    }
    return undefined;
  }

  /** The attempt ended: its CLI is free for that number again, and its outcome counts for resting. */
  release(draw: CliDraw, destination: string, feedback: CliFeedback): void {
    const busy = this.inUse.get(destination);
    if (busy) {
      busy.delete(draw.cli);
      if (busy.size === 0) this.inUse.delete(destination);
    }
    const state = this.byTrunk.get(draw.trunk)?.find((s) => s.entry === draw.entry);
    if (state === undefined) return;
    state.recent.push(feedback === 'answered' || feedback === 'flagged');
    if (state.recent.length > this.opts.window) state.recent.shift();
    const bad = state.recent.filter(Boolean).length;
    if (state.recent.length >= this.opts.minSamples && bad / state.recent.length > this.opts.maxBadShare) {
      state.restedUntil = this.opts.now() + this.opts.restMs;
      state.recent = [];
    }
  }

  /** Entries of a trunk resting now (for metrics and the operator). */
  rested(trunk: string): string[] {
    const now = this.opts.now();
    return (this.byTrunk.get(trunk) ?? []).filter((s) => s.restedUntil > now).map((s) => s.entry.text);
  }

  private drawFrom(entry: CliPoolEntry, busy: Set<string> | undefined): { cli: string; code: string } | undefined {
    if (entry.digits === 0) {
      if (busy?.has(entry.prefix)) return undefined;
      return { cli: entry.prefix, code: entry.prefix.slice(-FULL_NUMBER_CODE_DIGITS) };
    }
    const space = 10 ** entry.digits;
    // A handful of tries: the attempts in progress to one number are few next to the code space.
    for (let t = 0; t < 8; t++) {
      const code = String(randomInt(space)).padStart(entry.digits, '0');
      const cli = entry.prefix + code;
      if (!busy?.has(cli)) return { cli, code };
    }
    return undefined;
  }
}
