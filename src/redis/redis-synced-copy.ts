import type { Logger } from '../log/logger.js';
import { isRedisReady, type RedisConnection } from './redis-connection.js';

export interface RedisSyncedCopyOptions {
  /** A connection used only for SUBSCRIBE (it enters subscriber mode); the caller owns it. */
  subscriber: RedisConnection;
  /** The channel the changes are announced on. */
  channel: string;
  /** Full reload period: bounds how long a missed announcement can go unseen. */
  reloadMs: number;
  logger: Logger;
  /** Logged (warn, at most every 10 s) when Redis cannot be reached. */
  unavailableMessage: string;
}

/**
 * An in-memory copy of some Redis state on every edge, kept in sync one way: every change
 * announced on the channel is applied at once, plus a full reload every `reloadMs` and after every
 * (re)subscription, so an announcement missed while the subscriber was away is picked up. A reload
 * builds a new copy and swaps it in (a reader sees the old copy or the new one, never half of one),
 * and the changes announced while it was in flight are applied again on top of its result. Until
 * the first load, and while Redis is away, the last copy stays in force.
 *
 * Subclasses say how to load a copy and apply an announcement, and may hook the reload's steps
 * (PendingNumbers numbers them for its watermark: R is what a reload carries from start to end).
 */
export abstract class RedisSyncedCopy<T, R = undefined> {
  protected copy: T;
  /** The subscription is confirmed on the current connection. */
  protected subscribed = false;
  /** When the last successful full reload was sent (epoch ms); 0 = never. */
  protected loadedAt = 0;
  /** Connection generation: bumped on every close, so late results of an older one are told apart. */
  protected gen = 0;
  protected closed = false;
  protected reloadMs: number;
  private reloading: Promise<void> | undefined;
  private timer: NodeJS.Timeout;
  private lastErrorLog = 0;
  /** The announcements made during each reload in flight (its result must not lose them). */
  private readonly announced = new Set<string[]>();

  private readonly onMessage = (channel: string, message: string): void => {
    if (channel !== this.opts.channel) return;
    if (!this.apply(this.copy, message)) return;
    for (const a of this.announced) a.push(message);
    this.changed();
  };

  private readonly onReady = (): void => {
    // ioredis re-subscribes on reconnect; what was announced meanwhile comes with the reload.
    void this.subscribe();
  };

  private readonly onClose = (): void => {
    this.subscribed = false;
    this.gen++;
    this.connectionLost();
  };

  protected constructor(protected readonly opts: RedisSyncedCopyOptions, initial: T) {
    this.copy = initial;
    this.reloadMs = opts.reloadMs;
    this.timer = this.startTimer();
    opts.subscriber.on('message', this.onMessage);
    opts.subscriber.on('ready', this.onReady);
    opts.subscriber.on('close', this.onClose);
  }

  /** Starts syncing if the subscriber is up already (else its 'ready' will); call at the end of the subclass constructor. */
  protected start(): void {
    if (isRedisReady(this.opts.subscriber)) void this.subscribe();
  }

  /** Reads the whole state from Redis into a new copy. */
  protected abstract load(now: number): Promise<T>;
  /** Applies one announcement to `copy`; false when the message is not one (ignored). */
  protected abstract apply(copy: T, message: string): boolean;

  /** After an announcement was applied to the copy in force. */
  protected changed(): void {}
  /** The subscriber connection closed. */
  protected connectionLost(): void {}
  /** Before a reload is sent; what it returns is handed to reloaded / reloadFailed. */
  protected reloadStarting(): R {
    return undefined as R;
  }
  /** A reload's result is in force. */
  protected reloaded(_token: R, _sentAt: number): void {}
  /** A reload failed (already logged). `gen`: the connection generation it was sent on. */
  protected reloadFailed(_token: R, _gen: number): void {}
  /**
   * The copy to keep when a reload's connection was lost while it ran: its result may lack the
   * last announcements of that connection. Default: the reload's result.
   */
  protected mergeStale(next: T, _current: T): T {
    return next;
  }

  /** True once a full load has succeeded. */
  get loaded(): boolean {
    return this.loadedAt > 0;
  }

  /** Subscribes (if needed) then reloads; resolves once both are done or failed. */
  async whenSynced(): Promise<void> {
    await this.subscribe();
  }

  /** SIGHUP: the full reloads from now on come every `ms`. */
  setReloadMs(ms: number): void {
    if (this.closed) return;
    clearInterval(this.timer);
    this.reloadMs = ms;
    this.timer = this.startTimer();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.opts.subscriber.off('message', this.onMessage);
    this.opts.subscriber.off('ready', this.onReady);
    this.opts.subscriber.off('close', this.onClose);
    this.onClose();
  }

  protected async subscribe(): Promise<void> {
    if (this.closed) return;
    const gen = this.gen;
    try {
      await this.opts.subscriber.subscribe(this.opts.channel);
      if (gen !== this.gen) return; // the connection dropped meanwhile: its next "ready" starts over
      this.subscribed = true;
    } catch (err) {
      this.noteError(err as Error);
      return;
    }
    await this.reload(true);
  }

  /**
   * Reloads, joining one already in flight unless `fresh`: the first reload after a confirmed
   * subscription must be sent after it, never one sent before.
   */
  protected reload(fresh = false): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (fresh || this.reloading === undefined) {
      const run: Promise<void> = this.doReload().finally(() => { if (this.reloading === run) this.reloading = undefined; });
      this.reloading = run;
    }
    return this.reloading as Promise<void>;
  }

  protected noteError(err: Error): void {
    const now = Date.now();
    if (now - this.lastErrorLog < 10_000) return;
    this.lastErrorLog = now;
    this.opts.logger.warn({ err: err.message }, this.opts.unavailableMessage);
  }

  private async doReload(): Promise<void> {
    const now = Date.now();
    const gen = this.gen;
    const token = this.reloadStarting();
    const announced: string[] = [];
    this.announced.add(announced);
    try {
      const next = await this.load(now);
      for (const m of announced) this.apply(next, m);
      if (gen !== this.gen) {
        this.copy = this.mergeStale(next, this.copy);
        return;
      }
      this.copy = next;
      this.loadedAt = now;
      this.reloaded(token, now);
    } catch (err) {
      this.noteError(err as Error);
      this.reloadFailed(token, gen);
    } finally {
      this.announced.delete(announced);
    }
  }

  private startTimer(): NodeJS.Timeout {
    const t = setInterval(() => void this.reload(), this.reloadMs);
    t.unref();
    return t;
  }
}
