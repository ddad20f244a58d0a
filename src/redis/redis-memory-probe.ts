import { Gauge, type Registry } from 'prom-client';
import { isRedisReady, type RedisConnection } from './redis-connection.js';

export interface RedisMemoryProbeOptions {
  connection: RedisConnection;
  /** How often INFO memory is read. Default 1000 ms. */
  intervalMs?: number;
}

/**
 * Redis memory use against its maxmemory, read with INFO every second, so the edge can shed
 * unsolicited work and the API refuse new sessions before Redis refuses writes (noeviction), and
 * ops can watch it (ringproof_redis_used_memory_bytes). One INFO a second per process.
 */
export class RedisMemoryProbe {
  /** used_memory of the last read (bytes); 0 before the first. */
  usedBytes = 0;
  /** maxmemory of the last read (bytes); 0 = no ceiling. */
  maxBytes = 0;
  private readonly conn: RedisConnection;
  private readonly timer: NodeJS.Timeout;
  private inflight: Promise<void> | undefined;

  constructor(opts: RedisMemoryProbeOptions) {
    this.conn = opts.connection;
    this.timer = setInterval(() => void this.refresh(), opts.intervalMs ?? 1000);
    this.timer.unref();
    void this.refresh();
  }

  /** used / max, or 0 when Redis has no ceiling (or nothing was read yet). */
  get ratio(): number {
    return this.maxBytes > 0 ? this.usedBytes / this.maxBytes : 0;
  }

  /** Reads INFO memory now (reads in flight are shared); failures keep the last values. */
  refresh(): Promise<void> {
    this.inflight ??= this.read().finally(() => { this.inflight = undefined; });
    return this.inflight;
  }

  close(): void {
    clearInterval(this.timer);
  }

  private async read(): Promise<void> {
    if (!isRedisReady(this.conn)) return;
    try {
      const info = await this.conn.info('memory');
      const used = /^used_memory:(\d+)/m.exec(info);
      const max = /^maxmemory:(\d+)/m.exec(info);
      if (used) this.usedBytes = Number(used[1]);
      if (max) this.maxBytes = Number(max[1]);
    } catch {
      // Redis away: the connection's owner logs it; keep the last reading.
    }
  }
}

/** Gauges of Redis memory, filled at scrape time from the probe. */
export function registerRedisMemoryMetrics(registry: Registry, probe: RedisMemoryProbe): void {
  new Gauge({
    name: 'ringproof_redis_used_memory_bytes',
    help: 'Redis used_memory (INFO memory), read every second',
    registers: [registry],
    collect() { this.set(probe.usedBytes); },
  });
  new Gauge({
    name: 'ringproof_redis_maxmemory_bytes',
    help: 'Redis maxmemory (0 = no ceiling)',
    registers: [registry],
    collect() { this.set(probe.maxBytes); },
  });
}
