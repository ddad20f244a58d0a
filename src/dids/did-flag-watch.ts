import { Counter, Gauge, type Registry } from 'prom-client';
import type { AbuseEventSink } from '../abuse/abuse-event.js';
import type { Logger } from '../log/logger.js';
import type { RedisClient } from '../verify/scripts/lua-script.js';
import type { DidPool } from './did-pool.js';

export interface DidFlagMetrics {
  /** Flags set, by kind and reason. */
  readonly flags: Counter<'kind' | 'reason'>;
  /** DIDs with a flag in force (as this process last read the pool). */
  readonly flagged: Gauge;
}

export function createDidFlagMetrics(registry: Registry): DidFlagMetrics {
  const reuse = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
  return {
    flags: reuse('ringproof_abuse_flags_total', () => new Counter({
      name: 'ringproof_abuse_flags_total',
      help: 'Automatic abuse flags set (kind did: reason unwanted_calls_spike)',
      labelNames: ['kind', 'reason'] as const,
      registers: [registry],
    })),
    flagged: reuse('ringproof_flagged_dids', () => new Gauge({
      name: 'ringproof_flagged_dids',
      help: 'DIDs of the pool with an automatic flag in force (an unwanted-call rate far above their normal level)',
      registers: [registry],
    })),
  };
}

/** Minimum baseline rate (unwanted calls a minute) a recent rate is compared with: a quiet DID is not flagged for a handful of calls. */
const BASELINE_FLOOR_PER_MINUTE = 1;

/**
 * Flags a DID whose unwanted-call rate rises far above its normal level (didPool.flag): once a
 * minute one API process (a Redis lease, so several API processes do the work once) reads the
 * per-minute counts `{p}:agg:<minute>` of the recent window and of the baseline before it, and flags
 * each DID whose recent rate is above `factor` times its baseline (at least 1 call a minute) with at
 * least `minCalls` calls. A flag is logged with its reason and expiry, counted, handed to the abuse
 * event sink (`abuse.flagged`), shown by `ringproof dids list` and GET /v1/dids, and removed by
 * `ringproof dids unflag` / POST /v1/dids/{did}/unflag or at its expiry. It takes nothing out of
 * service: the operator decides whether to release the DID.
 */
export class DidFlagWatch {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(private readonly opts: {
    redis: RedisClient;
    prefix: string;
    pool: DidPool;
    events: AbuseEventSink;
    metrics: DidFlagMetrics;
    logger: Logger;
    clock?: () => number;
  }) {}

  start(intervalMs = 60_000): void {
    this.timer = setInterval(() => {
      this.running ??= this.tick().catch((err: unknown) => this.opts.logger.warn({ err }, 'DID flag watch: scan failed'))
        .finally(() => { this.running = undefined; });
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One round: the scan if this process holds the minute's lease, then the gauge. */
  private async tick(): Promise<void> {
    const now = this.clock();
    const lease = await this.opts.redis.set(`${this.opts.prefix}:didpool:watch`, String(process.pid), 'PX', 50_000, 'NX');
    if (lease === 'OK') await this.scan(now);
    this.opts.metrics.flagged.set((await this.opts.pool.records()).filter((r) => r.flag).length);
  }

  /** Flags the DIDs over the rule now; resolves with those newly flagged. */
  async scan(now = this.clock()): Promise<string[]> {
    const f = this.opts.pool.config.flag;
    if (!f.enabled) return [];
    const minute = Math.floor(now / 60_000);
    const [recent, baseline] = await Promise.all([
      this.opts.pool.unwantedCallsBetween(minute - f.recentMinutes + 1, minute),
      this.opts.pool.unwantedCallsBetween(minute - f.recentMinutes - f.baselineMinutes + 1, minute - f.recentMinutes),
    ]);
    const pool = new Set((await this.opts.pool.records()).map((r) => r.did));
    const flagged: string[] = [];
    for (const [did, calls] of recent) {
      if (!pool.has(did) || calls < f.minCalls) continue;
      const recentPerMinute = calls / f.recentMinutes;
      const baselinePerMinute = (baseline.get(did) ?? 0) / f.baselineMinutes;
      if (recentPerMinute <= f.factor * Math.max(baselinePerMinute, BASELINE_FLOOR_PER_MINUTE)) continue;
      const flag = {
        reason: 'unwanted_calls_spike' as const, at: now, expiresAt: now + f.seconds * 1000,
        recentPerMinute: round(recentPerMinute), baselinePerMinute: round(baselinePerMinute),
      };
      if (!(await this.opts.pool.flag(did, flag))) continue;
      flagged.push(did);
      this.opts.metrics.flags.inc({ kind: 'did', reason: flag.reason });
      this.opts.logger.warn({ did, reason: flag.reason, expiresAt: new Date(flag.expiresAt).toISOString(), recentPerMinute: flag.recentPerMinute, baselinePerMinute: flag.baselinePerMinute }, 'abuse: DID flagged');
      this.opts.events.emit({
        type: 'abuse.flagged', subject: { kind: 'did', value: did }, reason: `auto:${flag.reason}`, expiresAt: flag.expiresAt, at: now,
        detail: { process: 'api', recentPerMinute: flag.recentPerMinute, baselinePerMinute: flag.baselinePerMinute },
      });
    }
    return flagged;
  }

  private clock(): number {
    return (this.opts.clock ?? Date.now)();
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
