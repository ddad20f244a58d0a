import type { Logger } from '../log/logger.js';
import { isRedisReady, type RedisConnection } from '../redis/redis-connection.js';

/** What the edge's sink asks: can a call from this CLI verify a pending session? */
export interface CandidateFilter {
  /** True when `cli` has (or had, until the next reload) a pending session. */
  has(cli: string): boolean;
  /** True while the filter is known current: subscribed, and reloaded recently. */
  readonly synced: boolean;
}

export interface PendingNumbersOptions {
  /** A connection used only for SUBSCRIBE (it enters subscriber mode); the caller owns it. */
  subscriber: RedisConnection;
  /** Any connection for the periodic reload (ZRANGEBYSCORE); the caller owns it. */
  reader: RedisConnection;
  /** verifyKeys(prefix).pending and .pendingChannel. */
  pendingKey: string;
  channel: string;
  /** Full reload period; staleness after a missed message is bounded by it. */
  reloadMs: number;
  logger: Logger;
}

/**
 * The edge's copy of the numbers that have a pending session, so calls from them go in the
 * candidate lane ahead of a flood and are never shed. Kept current by the create script's PUBLISH
 * of each new session, plus a full reload every `reloadMs` and after every reconnect of the
 * subscriber (a message missed while it was away is then picked up).
 *
 * An optimisation only: a number missing here (a message lost, a reload not yet run) sends its call
 * in the unsolicited lane, where the worker matches it exactly the same. The sink sheds unsolicited
 * work only while `synced` is true, so a filter that may be stale never causes a drop.
 * Entries stay until their session's expiry (a verified number stays a candidate until then:
 * harmless, a redial goes first).
 */
export class PendingNumbers implements CandidateFilter {
  private numbers = new Map<string, number>();
  /** Entries announced while a reload is in flight (its result must not drop them). */
  private announced: Map<string, number> | undefined;
  private subscribed = false;
  private loadedAt = 0;
  private reloading: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly opts: PendingNumbersOptions;
  private closed = false;
  private lastErrorLog = 0;

  private readonly onMessage = (channel: string, message: string): void => {
    if (channel !== this.opts.channel) return;
    const space = message.lastIndexOf(' ');
    if (space <= 0) return;
    const number = message.slice(0, space);
    const expiresAt = Number(message.slice(space + 1));
    if (!Number.isFinite(expiresAt)) return;
    this.numbers.set(number, Math.max(expiresAt, this.numbers.get(number) ?? 0));
    this.announced?.set(number, expiresAt);
  };

  private readonly onReady = (): void => {
    // ioredis re-subscribes on reconnect; what was published meanwhile comes with the reload.
    void this.subscribe();
  };

  private readonly onClose = (): void => {
    this.subscribed = false;
  };

  constructor(opts: PendingNumbersOptions) {
    this.opts = opts;
    opts.subscriber.on('message', this.onMessage);
    opts.subscriber.on('ready', this.onReady);
    opts.subscriber.on('close', this.onClose);
    this.timer = setInterval(() => void this.reload(), opts.reloadMs);
    this.timer.unref();
    if (isRedisReady(opts.subscriber)) void this.subscribe();
  }

  has(cli: string): boolean {
    return this.numbers.has(cli);
  }

  get synced(): boolean {
    return this.subscribed && this.loadedAt > 0 && Date.now() - this.loadedAt < 2 * this.opts.reloadMs + 1000;
  }

  get size(): number {
    return this.numbers.size;
  }

  /** Subscribes (if needed) then reloads; resolves once both are done or failed. */
  async whenSynced(): Promise<void> {
    await this.subscribe();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.opts.subscriber.off('message', this.onMessage);
    this.opts.subscriber.off('ready', this.onReady);
    this.opts.subscriber.off('close', this.onClose);
  }

  private async subscribe(): Promise<void> {
    if (this.closed) return;
    try {
      await this.opts.subscriber.subscribe(this.opts.channel);
      this.subscribed = true;
    } catch (err) {
      this.noteError(err as Error);
      return;
    }
    await this.reload();
  }

  private reload(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.reloading ??= this.doReload().finally(() => { this.reloading = undefined; });
    return this.reloading;
  }

  private async doReload(): Promise<void> {
    const now = Date.now();
    this.announced = new Map();
    try {
      const flat = await this.opts.reader.zrangebyscore(this.opts.pendingKey, now, '+inf', 'WITHSCORES');
      const next = new Map<string, number>();
      for (let i = 0; i + 1 < flat.length; i += 2) next.set(flat[i] as string, Number(flat[i + 1]));
      for (const [n, e] of this.announced) next.set(n, Math.max(e, next.get(n) ?? 0));
      this.numbers = next;
      this.loadedAt = now;
    } catch (err) {
      this.noteError(err as Error);
    } finally {
      this.announced = undefined;
    }
  }

  private noteError(err: Error): void {
    const now = Date.now();
    if (now - this.lastErrorLog < 10_000) return;
    this.lastErrorLog = now;
    this.opts.logger.warn({ err: err.message }, 'pending-number pre-filter: Redis unavailable; no unsolicited call is shed until it is current again');
  }
}
