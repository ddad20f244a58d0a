import type { FloodGuardConfig } from '../config/config-types.js';
import type { Logger } from '../log/logger.js';
import { maskAddress } from '../log/mask.js';
import type { FloodGuardMetrics } from './flood-guard-metrics.js';

interface Window {
  start: number;
  count: number;
}

export interface FloodGuardOptions {
  config: FloodGuardConfig;
  metrics: FloodGuardMetrics;
  logger: Logger;
  /** Clock (tests); Date.now by default. */
  now?: () => number;
  /** Period of the one sweep that lifts expired bans (default 1 s). */
  sweepMs?: number;
}

/**
 * A pike-like flood guard: each source address gets a counter per sampling window; a source that
 * sends more than its limit in one window is banned for `banSeconds`, and the edge drops everything
 * it sends meanwhile without an answer (drop reason `flood_ban`).
 *
 * Cost and memory are bounded whatever the traffic: one Map lookup for the ban and one for the
 * window per request, no timer per source. Windows are kept in Map insertion order by start (a
 * window that restarts is moved to the end), so the stalest window is always first: past
 * `maxSources` it is evicted in O(1) (a random-source flood churns through the map, counted in
 * `ringproof_flood_guard_evictions_total`, and cannot grow it), and one sweep per second drops the
 * finished ones from the front. Bans are kept apart from windows, so churn never evicts a ban;
 * since every ban lasts `banSeconds`, their insertion order is their expiry order and the sweep
 * lifts expired ones from the front too. There can be at most `maxSources` bans.
 */
export class FloodGuard {
  private readonly windows = new Map<string, Window>();
  private readonly bans = new Map<string, number>();
  /** The settings in force; a disabled guard's limits read 0, so check() returns at once. */
  private config: FloodGuardConfig;
  private readonly metrics: FloodGuardMetrics;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout;
  /**
   * Reads the stalest window across evictions: a fresh `keys().next()` walks over every deleted slot
   * V8 keeps at the front of the Map's table until its next rehash (thousands under a many-source
   * flood, microseconds an eviction); this one resumes past them. Dropped by each sweep, so it never
   * holds old tables of the Map for long.
   */
  private stalest: Iterator<string> | undefined;

  constructor(opts: FloodGuardOptions) {
    this.config = inForce(opts.config);
    this.metrics = opts.metrics;
    this.logger = opts.logger;
    this.now = opts.now ?? Date.now;
    this.timer = setInterval(() => this.sweep(), opts.sweepMs ?? 1000);
    this.timer.unref();
  }

  /**
   * Counts one request from `address` and says whether it is to be dropped: true while the source
   * is banned (the request that crosses the limit is the first one dropped).
   */
  check(address: string, fromTrunk: boolean): boolean {
    const limit = fromTrunk ? this.config.trunkMaxRequests : this.config.maxRequests;
    if (limit === 0) return false;
    const now = this.now();
    if (this.bans.size !== 0) {
      const until = this.bans.get(address);
      if (until !== undefined) {
        if (now < until) return true;
        this.unban(address);
      }
    }
    const w = this.windows.get(address);
    if (w === undefined) {
      if (this.windows.size >= this.config.maxSources) this.evictOldest();
      this.windows.set(address, { start: now, count: 1 });
      return false;
    }
    if (now - w.start >= this.config.windowMs) {
      // Moved to the end so the map stays ordered by window start.
      this.windows.delete(address);
      w.start = now;
      w.count = 1;
      this.windows.set(address, w);
      return false;
    }
    if (++w.count <= limit) return false;
    this.ban(address, now, fromTrunk, w.count);
    return true;
  }

  /**
   * SIGHUP (abuse.floodGuard): the new settings apply from the next request. Counting windows and
   * bans are kept (a ban keeps the expiry it was given); disabling lets every source through at once.
   */
  reconfigure(config: FloodGuardConfig): void {
    this.config = inForce(config);
  }

  /** True while `address` is banned (for tests and the API; no counting). */
  isBanned(address: string): boolean {
    const until = this.bans.get(address);
    return until !== undefined && this.now() < until;
  }

  get trackedSources(): number {
    return this.windows.size;
  }

  get bannedSources(): number {
    return this.bans.size;
  }

  /** Lifts expired bans and forgets finished windows, from the front of each map. */
  sweep(): void {
    this.stalest = undefined;
    const now = this.now();
    for (const [address, until] of this.bans) {
      if (now < until) break;
      this.unban(address);
    }
    for (const [address, w] of this.windows) {
      if (now - w.start < this.config.windowMs) break;
      this.windows.delete(address);
    }
  }

  close(): void {
    clearInterval(this.timer);
  }

  private ban(address: string, now: number, fromTrunk: boolean, count: number): void {
    this.windows.delete(address);
    if (this.bans.size >= this.config.maxSources) {
      // The soonest to expire goes first; a flood able to fill this many bans is beyond one edge.
      const first = this.bans.keys().next();
      if (!first.done) this.unban(first.value);
    }
    const until = now + this.config.banSeconds * 1000;
    this.bans.set(address, until);
    this.metrics.bans.set(this.bans.size);
    this.metrics.bansTotal.inc({ trunk: fromTrunk ? 'yes' : 'no' });
    this.logger.warn(
      { source: maskAddress(address), trunk: fromTrunk, requests: count, windowMs: this.config.windowMs, expiresAt: new Date(until).toISOString() },
      'flood guard: source banned',
    );
  }

  private unban(address: string): void {
    this.bans.delete(address);
    this.metrics.bans.set(this.bans.size);
    this.logger.info({ source: maskAddress(address) }, 'flood guard: ban expired');
  }

  private evictOldest(): void {
    this.stalest ??= this.windows.keys();
    let first = this.stalest.next();
    if (first.done === true) {
      // Run out (the map was emptied meanwhile): start over.
      this.stalest = this.windows.keys();
      first = this.stalest.next();
    }
    if (first.done === true) return;
    this.windows.delete(first.value);
    this.metrics.evictions.inc();
  }
}

/** A disabled guard counts nothing: both limits 0, the check's first exit. */
function inForce(config: FloodGuardConfig): FloodGuardConfig {
  return config.enabled ? config : { ...config, maxRequests: 0, trunkMaxRequests: 0 };
}
