import { Queue } from 'bullmq';
import type { RedisConnection } from '../redis/redis-connection.js';

export interface QueueDepth {
  /** Jobs waiting (paused included), prioritized or being processed: the backlog to work now. */
  depth: number;
  /** Jobs scheduled for later (retry backoff, session expiry timers). */
  delayed: number;
  failed: number;
}

export interface QueueDepthProbeOptions {
  connection: RedisConnection;
  prefix: string;
  queues: readonly string[];
  /** Results are reused this long so frequent scrapes cost one Redis round trip per second at most. */
  cacheMs?: number;
  /** A scrape never waits longer than this for Redis. */
  timeoutMs?: number;
}

/**
 * Reads BullMQ job counts of a few queues for the metrics scrape, cached. Owns light Queue objects
 * on the shared connection (closing them does not close the connection).
 */
export class QueueDepthProbe {
  private readonly queues: Queue[];
  private readonly cacheMs: number;
  private readonly timeoutMs: number;
  private cached: Map<string, QueueDepth> | undefined;
  private cachedAt = 0;
  private inflight: Promise<Map<string, QueueDepth> | undefined> | undefined;

  constructor(opts: QueueDepthProbeOptions) {
    this.queues = opts.queues.map((name) => {
      const q = new Queue(name, { connection: opts.connection, prefix: opts.prefix });
      q.on('error', () => { /* connection errors are logged by the connection's owner */ });
      return q;
    });
    this.cacheMs = Math.max(1000, opts.cacheMs ?? 1000);
    this.timeoutMs = opts.timeoutMs ?? 1000;
  }

  /** Depths per queue name, or undefined when Redis did not answer in time. */
  async read(): Promise<Map<string, QueueDepth> | undefined> {
    if (this.cached && Date.now() - this.cachedAt < this.cacheMs) return this.cached;
    this.inflight ??= this.fetch().finally(() => { this.inflight = undefined; });
    return this.inflight;
  }

  async close(): Promise<void> {
    await Promise.all(this.queues.map((q) => q.close().catch(() => undefined)));
  }

  private async fetch(): Promise<Map<string, QueueDepth> | undefined> {
    const all = Promise.all(this.queues.map(async (q) => {
      const c = await q.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
      const n = (k: string): number => c[k] ?? 0;
      const d: QueueDepth = {
        depth: n('waiting') + n('prioritized') + n('active'),
        delayed: n('delayed'),
        failed: n('failed'),
      };
      return [q.name, d] as const;
    }));
    all.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((res) => { timer = setTimeout(() => res(undefined), this.timeoutMs); });
    try {
      const result = await Promise.race([all, timeout]);
      if (!result) return undefined;
      this.cached = new Map(result);
      this.cachedAt = Date.now();
      return this.cached;
    } catch {
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}
