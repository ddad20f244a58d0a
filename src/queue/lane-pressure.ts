import type { RedisMemoryProbe } from '../redis/redis-memory-probe.js';
import { isRedisReady, type RedisConnection } from '../redis/redis-connection.js';
import { runScript } from '../verify/scripts/lua-script.js';
import { oldestPrioritizedScript } from './scripts/oldest-prioritized.js';

export interface LanePressureOptions {
  connection: RedisConnection;
  /** BullMQ prefix; the unsolicited lane is the "calls" queue's prioritized set. */
  prefix: string;
  /** Shed while the oldest waiting unsolicited batch is older than this. */
  shedAfterMs: number;
  /** Shed while Redis memory is above this fraction of maxmemory (needs `memory`). */
  memoryShedRatio: number;
  memory?: RedisMemoryProbe;
  intervalMs?: number;
}

/**
 * Whether the edge should shed unsolicited calls now: the workers are behind on the unsolicited
 * lane (its oldest batch waited longer than shedAfterMs), or Redis is close to its memory ceiling.
 * Read once a second with one small script; `shedding` is a field read on the publish path.
 * Hysteresis: shedding stops when the lane's age falls below half the threshold.
 */
export class LanePressure {
  shedding = false;
  /** Age in ms of the oldest waiting unsolicited batch at the last read (0 = none). */
  laneAgeMs = 0;
  private readonly opts: LanePressureOptions;
  private readonly timer: NodeJS.Timeout;
  private readonly prioritizedKey: string;
  private readonly jobPrefix: string;

  constructor(opts: LanePressureOptions) {
    this.opts = opts;
    this.prioritizedKey = `${opts.prefix}:calls:prioritized`;
    this.jobPrefix = `${opts.prefix}:calls:`;
    this.timer = setInterval(() => void this.read(), opts.intervalMs ?? 1000);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** One reading now (tests; the timer does it every second). */
  async read(): Promise<void> {
    if (!isRedisReady(this.opts.connection)) return;
    try {
      const ts = Number(await runScript(this.opts.connection, oldestPrioritizedScript, [this.prioritizedKey], [this.jobPrefix]));
      this.laneAgeMs = ts > 0 ? Math.max(0, Date.now() - ts) : 0;
    } catch {
      return; // Redis away: the sink spools; keep the last decision
    }
    const limit = this.shedding ? this.opts.shedAfterMs / 2 : this.opts.shedAfterMs;
    const memory = this.opts.memory !== undefined && this.opts.memory.ratio >= this.opts.memoryShedRatio;
    this.shedding = this.laneAgeMs > limit || memory;
  }
}
