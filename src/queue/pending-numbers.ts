import { Cluster } from 'ioredis';
import type { Logger } from '../log/logger.js';
import { isRedisReady, type RedisConnection } from '../redis/redis-connection.js';

/** What the edge's sink asks: can a call from this CLI verify a pending session? */
export interface CandidateFilter {
  /** True when `cli` has (or had, until the next reload) a pending session. */
  has(cli: string): boolean;
  /** True while the filter is known current: subscribed, and reloaded recently. */
  readonly synced: boolean;
}

/**
 * The exactness the edge decider needs (see PendingNumbers, "watermark"): probes are numbered; a
 * call that arrived while `sent` was s may be decided from the copy once `watermark` > s.
 */
export interface WatermarkedFilter extends CandidateFilter {
  /** Number of the last probe sent (a call arriving now is covered by the next one). */
  readonly sent: number;
  /** Highest probe number known delivered in the current connection; 0 while the copy is not exact. */
  readonly watermark: number;
  /** ms since the probe of `watermark` was sent (Infinity while the copy is not exact). */
  readonly watermarkAgeMs: number;
  /** `advanced` after each watermark step; `lost` when the copy stops being exact. */
  listen(l: { advanced(): void; lost(): void }): void;
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
  /** PING period of the watermark (0: no watermark, the copy is never exact). */
  watermarkMs?: number;
  logger: Logger;
}

/**
 * The edge's copy of the numbers that have a pending session, so calls from them go in the
 * candidate lane ahead of a flood and are never shed. Kept current by the create script's PUBLISH
 * of each new session, plus a full reload every `reloadMs` and after every reconnect of the
 * subscriber (a message missed while it was away is then picked up).
 *
 * Watermark (exactness): Redis sends pub/sub messages and command replies of one connection in the
 * order it produced them, and the create script PUBLISHes before the API answers. So every
 * `watermarkMs` the subscriber connection sends PING (allowed in subscriber mode); when its reply
 * arrives, every session created before Redis ran that PING has been delivered here. Probes are
 * numbered (`sent`); once probe w is answered (`watermark` = w) the copy is exact for every call
 * that arrived before probe w was sent: such a call whose CLI is not here cannot match a session
 * (its user could only dial after the API answered, i.e. after the create ran). After a
 * (re)subscribe the watermark starts only when the subscription is confirmed and a full reload sent
 * after it has completed (the reload is then the probe); on close it is 0 until that happens again,
 * and replies of probes sent on an earlier connection (ioredis may resend them) are ignored.
 * A Redis Cluster subscriber is not ordered with the node that runs the script: never exact there.
 *
 * Without the watermark the copy is an optimisation only: a number missing here sends its call in
 * the unsolicited lane, where the worker matches it the same. Entries stay until their score
 * (expiresAt + grace + the late-evidence time, see the store), so late calls stay candidates.
 */
export class PendingNumbers implements WatermarkedFilter {
  private numbers = new Map<string, number>();
  /** Entries announced while each reload in flight is (its result must not drop them). */
  private readonly announced = new Set<Map<string, number>>();
  private subscribed = false;
  private loadedAt = 0;
  private reloading: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly pingTimer: NodeJS.Timeout | undefined;
  private readonly opts: PendingNumbersOptions;
  private closed = false;
  private lastErrorLog = 0;
  /** Connection generation: bumped on every close, so late replies of an older one are ignored. */
  private gen = 0;
  private seq = 0;
  private mark = 0;
  private markSentAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private pinging = false;
  private readonly exactCapable: boolean;
  private readonly listeners: Array<{ advanced(): void; lost(): void }> = [];

  private readonly onMessage = (channel: string, message: string): void => {
    if (channel !== this.opts.channel) return;
    const space = message.lastIndexOf(' ');
    if (space <= 0) return;
    const number = message.slice(0, space);
    const expiresAt = Number(message.slice(space + 1));
    if (!Number.isFinite(expiresAt)) return;
    this.numbers.set(number, Math.max(expiresAt, this.numbers.get(number) ?? 0));
    for (const a of this.announced) a.set(number, expiresAt);
  };

  private readonly onReady = (): void => {
    // ioredis re-subscribes on reconnect; what was published meanwhile comes with the reload.
    void this.subscribe();
  };

  private readonly onClose = (): void => {
    this.subscribed = false;
    this.gen++;
    this.pinging = false;
    if (this.mark > 0) {
      this.mark = 0;
      for (const l of this.listeners) l.lost();
    }
  };

  constructor(opts: PendingNumbersOptions) {
    this.opts = opts;
    this.exactCapable = !(opts.subscriber instanceof Cluster) && (opts.watermarkMs ?? 0) > 0;
    opts.subscriber.on('message', this.onMessage);
    opts.subscriber.on('ready', this.onReady);
    opts.subscriber.on('close', this.onClose);
    this.timer = setInterval(() => void this.reload(), opts.reloadMs);
    this.timer.unref();
    if (this.exactCapable) {
      this.pingTimer = setInterval(() => this.probe(), opts.watermarkMs);
      this.pingTimer.unref();
    }
    if (isRedisReady(opts.subscriber)) void this.subscribe();
  }

  has(cli: string): boolean {
    return this.numbers.has(cli);
  }

  get synced(): boolean {
    return this.subscribed && this.loadedAt > 0 && Date.now() - this.loadedAt < 2 * this.opts.reloadMs + 1000;
  }

  get sent(): number {
    return this.seq;
  }

  get watermark(): number {
    return this.mark;
  }

  get watermarkAgeMs(): number {
    return this.mark > 0 ? Date.now() - this.markSentAt : Infinity;
  }

  get size(): number {
    return this.numbers.size;
  }

  listen(l: { advanced(): void; lost(): void }): void {
    this.listeners.push(l);
  }

  /** Subscribes (if needed) then reloads; resolves once both are done or failed. */
  async whenSynced(): Promise<void> {
    await this.subscribe();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.opts.subscriber.off('message', this.onMessage);
    this.opts.subscriber.off('ready', this.onReady);
    this.opts.subscriber.off('close', this.onClose);
    this.onClose();
  }

  private async subscribe(): Promise<void> {
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
   * `base`: the first reload after a confirmed subscription. Any reload sent while subscribed can
   * start the watermark; this one must not reuse a reload sent before the subscription.
   */
  private reload(base = false): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (base || this.reloading === undefined) {
      // A base reload must be sent after the subscription: never reuse one already in flight.
      const run: Promise<void> = this.doReload().finally(() => { if (this.reloading === run) this.reloading = undefined; });
      this.reloading = run;
    }
    return this.reloading as Promise<void>;
  }

  private async doReload(): Promise<void> {
    const now = Date.now();
    const gen = this.gen;
    const seq = ++this.seq;
    // Sent after the subscription was confirmed on this connection: it proves the copy complete.
    const proves = this.subscribed;
    const announced = new Map<string, number>();
    this.announced.add(announced);
    try {
      const flat = await this.opts.reader.zrangebyscore(this.opts.pendingKey, now, '+inf', 'WITHSCORES');
      const next = new Map<string, number>();
      for (let i = 0; i + 1 < flat.length; i += 2) next.set(flat[i] as string, Number(flat[i + 1]));
      for (const [n, e] of announced) next.set(n, Math.max(e, next.get(n) ?? 0));
      if (gen !== this.gen) {
        // Messages of the lost connection's last moments may be missing from both: keep the union.
        for (const [n, e] of this.numbers) next.set(n, Math.max(e, next.get(n) ?? 0));
        this.numbers = next;
        return;
      }
      this.numbers = next;
      this.loadedAt = now;
      if (this.exactCapable && proves) this.advance(seq, now);
    } catch (err) {
      this.noteError(err as Error);
      // The first reload after a (re)subscribe failed (the reader not connected yet): try again soon.
      if (proves && gen === this.gen && this.mark === 0 && !this.closed) {
        this.retryTimer ??= setTimeout(() => { this.retryTimer = undefined; void this.reload(true); }, Math.min(500, this.opts.reloadMs));
        this.retryTimer.unref();
      }
    } finally {
      this.announced.delete(announced);
    }
  }

  /** One PING on the subscriber connection at a time; its reply moves the watermark. */
  private probe(): void {
    if (this.closed || this.pinging || this.mark === 0 || !isRedisReady(this.opts.subscriber)) return;
    const gen = this.gen;
    const seq = ++this.seq;
    const at = Date.now();
    this.pinging = true;
    this.opts.subscriber.ping().then(
      () => {
        if (gen !== this.gen) return;
        this.pinging = false;
        if (this.mark > 0) this.advance(seq, at);
      },
      (err: Error) => {
        if (gen === this.gen) this.pinging = false;
        this.noteError(err);
      },
    );
  }

  private advance(seq: number, sentAt: number): void {
    if (seq <= this.mark) return;
    this.mark = seq;
    this.markSentAt = sentAt;
    for (const l of this.listeners) l.advanced();
  }

  private noteError(err: Error): void {
    const now = Date.now();
    if (now - this.lastErrorLog < 10_000) return;
    this.lastErrorLog = now;
    this.opts.logger.warn({ err: err.message }, 'pending-number pre-filter: Redis unavailable; no unsolicited call is shed or decided at the edge until it is current again');
  }
}
