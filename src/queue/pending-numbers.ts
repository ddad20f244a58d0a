import { Cluster } from 'ioredis';
import type { Logger } from '../log/logger.js';
import { isRedisReady, type RedisConnection } from '../redis/redis-connection.js';
import { RedisSyncedCopy } from '../redis/redis-synced-copy.js';

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
 * candidate lane ahead of a flood and are never shed. Kept current (RedisSyncedCopy) by the create
 * script's PUBLISH of each new session, plus a full reload every `reloadMs` and after every
 * reconnect of the subscriber (a message missed while it was away is then picked up).
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
/** A reload as a watermark probe: its number, and whether it was sent after the subscription was confirmed. */
interface ReloadProbe {
  seq: number;
  proves: boolean;
}

export class PendingNumbers extends RedisSyncedCopy<Map<string, number>, ReloadProbe> implements WatermarkedFilter {
  private readonly pingTimer: NodeJS.Timeout | undefined;
  private readonly pn: PendingNumbersOptions;
  private seq = 0;
  private mark = 0;
  private markSentAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private pinging = false;
  private readonly exactCapable: boolean;
  private readonly listeners: Array<{ advanced(): void; lost(): void }> = [];

  constructor(opts: PendingNumbersOptions) {
    super({
      subscriber: opts.subscriber, channel: opts.channel, reloadMs: opts.reloadMs, logger: opts.logger,
      unavailableMessage: 'pending-number pre-filter: Redis unavailable; no unsolicited call is shed or decided at the edge until it is current again',
    }, new Map());
    this.pn = opts;
    this.exactCapable = !(opts.subscriber instanceof Cluster) && (opts.watermarkMs ?? 0) > 0;
    if (this.exactCapable) {
      this.pingTimer = setInterval(() => this.probe(), opts.watermarkMs);
      this.pingTimer.unref();
    }
    this.start();
  }

  has(cli: string): boolean {
    return this.copy.has(cli);
  }

  get synced(): boolean {
    return this.subscribed && this.loadedAt > 0 && Date.now() - this.loadedAt < 2 * this.reloadMs + 1000;
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
    return this.copy.size;
  }

  listen(l: { advanced(): void; lost(): void }): void {
    this.listeners.push(l);
  }

  override close(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    super.close();
  }

  /** "<number> <expiresAt>": kept until the latest expiry announced for it. */
  protected apply(copy: Map<string, number>, message: string): boolean {
    const space = message.lastIndexOf(' ');
    if (space <= 0) return false;
    const number = message.slice(0, space);
    const expiresAt = Number(message.slice(space + 1));
    if (!Number.isFinite(expiresAt)) return false;
    copy.set(number, Math.max(expiresAt, copy.get(number) ?? 0));
    return true;
  }

  protected async load(now: number): Promise<Map<string, number>> {
    const flat = await this.pn.reader.zrangebyscore(this.pn.pendingKey, now, '+inf', 'WITHSCORES');
    const next = new Map<string, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) next.set(flat[i] as string, Number(flat[i + 1]));
    return next;
  }

  protected override connectionLost(): void {
    this.pinging = false;
    if (this.mark > 0) {
      this.mark = 0;
      for (const l of this.listeners) l.lost();
    }
  }

  /** Each reload is a numbered probe; one sent after the subscription was confirmed proves the copy complete. */
  protected override reloadStarting(): ReloadProbe {
    return { seq: ++this.seq, proves: this.subscribed };
  }

  protected override reloaded(token: ReloadProbe, sentAt: number): void {
    if (this.exactCapable && token.proves) this.advance(token.seq, sentAt);
  }

  protected override reloadFailed(token: ReloadProbe, gen: number): void {
    // The first reload after a (re)subscribe failed (the reader not connected yet): try again soon.
    if (token.proves && gen === this.gen && this.mark === 0 && !this.closed) {
      this.retryTimer ??= setTimeout(() => { this.retryTimer = undefined; void this.reload(true); }, Math.min(500, this.reloadMs));
      this.retryTimer.unref();
    }
  }

  /** Messages of the lost connection's last moments may be missing from both: keep the union. */
  protected override mergeStale(next: Map<string, number>, current: Map<string, number>): Map<string, number> {
    for (const [n, e] of current) next.set(n, Math.max(e, next.get(n) ?? 0));
    return next;
  }

  /** One PING on the subscriber connection at a time; its reply moves the watermark. */
  private probe(): void {
    if (this.closed || this.pinging || this.mark === 0 || !isRedisReady(this.pn.subscriber)) return;
    const gen = this.gen;
    const seq = ++this.seq;
    const at = Date.now();
    this.pinging = true;
    this.pn.subscriber.ping().then(
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
}
