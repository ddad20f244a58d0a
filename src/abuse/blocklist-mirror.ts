import type { Logger } from '../log/logger.js';
import { isRedisReady, type RedisConnection } from '../redis/redis-connection.js';
import { decodeBlocklistEntry, isExpired } from './blocklist-entry.js';
import { BlocklistIndex } from './blocklist-index.js';
import type { BlocklistChange } from './blocklist-store.js';

export interface BlocklistMirrorOptions {
  /** A connection used only for SUBSCRIBE (it enters subscriber mode); the caller owns it. */
  subscriber: RedisConnection;
  /** Any connection for the full reloads (HGETALL); the caller owns it. */
  reader: RedisConnection;
  /** blocklistKeys(prefix). */
  keys: { hash: string; channel: string };
  /** Full reload period: bounds how long a missed announcement can go unseen. */
  reloadMs: number;
  logger: Logger;
  /** Told the entry count after every change (the blocklist-size gauge). */
  onSize?: (size: number) => void;
}

/**
 * An edge's copy of the blocklist, kept in sync the way src/queue/pending-numbers.ts keeps the
 * pending numbers: every change announced on the channel is applied at once (a change made on any
 * node reaches every edge within a round trip), plus a full reload every `reloadMs` and after every
 * reconnect of the subscriber, so an announcement missed while it was away is picked up. A reload
 * builds a new index and swaps it in: a match sees the old copy or the new one, never half of one.
 * Until the first load, and while Redis is away, the last copy stays in force.
 */
export class BlocklistMirror {
  private index = new BlocklistIndex();
  /** Changes announced while a reload is in flight: applied again on top of its result. */
  private pending: BlocklistChange[] | undefined;
  private reloading: Promise<void> | undefined;
  private timer: NodeJS.Timeout;
  private closed = false;
  private lastErrorLog = 0;
  private loadedAt = 0;

  private readonly onMessage = (channel: string, message: string): void => {
    if (channel !== this.opts.keys.channel) return;
    let change: BlocklistChange;
    try {
      change = JSON.parse(message) as BlocklistChange;
    } catch {
      return;
    }
    this.apply(this.index, change);
    this.pending?.push(change);
    this.opts.onSize?.(this.index.size);
  };

  private readonly onReady = (): void => {
    void this.subscribe();
  };

  constructor(private readonly opts: BlocklistMirrorOptions) {
    opts.subscriber.on('message', this.onMessage);
    opts.subscriber.on('ready', this.onReady);
    this.timer = setInterval(() => void this.reload(), opts.reloadMs);
    this.timer.unref();
    if (isRedisReady(opts.subscriber)) void this.subscribe();
  }

  /** SIGHUP (abuse.blocklist.reloadSeconds): the full reloads from now on come every `ms`. */
  setReloadMs(ms: number): void {
    if (this.closed) return;
    clearInterval(this.timer);
    this.timer = setInterval(() => void this.reload(), ms);
    this.timer.unref();
  }

  /** The copy in force; replaced as a whole by a reload, so read it once per call. */
  get current(): BlocklistIndex {
    return this.index;
  }

  /** True once the first full load has succeeded. */
  get loaded(): boolean {
    return this.loadedAt > 0;
  }

  /** Subscribes (if needed) and reloads; resolves when both are done or failed. */
  async whenSynced(): Promise<void> {
    await this.subscribe();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.opts.subscriber.off('message', this.onMessage);
    this.opts.subscriber.off('ready', this.onReady);
  }

  private apply(index: BlocklistIndex, change: BlocklistChange): void {
    if (change.op === 'add') {
      const e = decodeBlocklistEntry(JSON.stringify(change.entry));
      if (e !== undefined) index.put(e);
    } else if (change.op === 'remove' && typeof change.field === 'string') {
      index.removeField(change.field);
    }
  }

  private async subscribe(): Promise<void> {
    if (this.closed) return;
    try {
      await this.opts.subscriber.subscribe(this.opts.keys.channel);
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
    this.pending = [];
    try {
      const all = await this.opts.reader.hgetall(this.opts.keys.hash);
      const next = new BlocklistIndex();
      for (const text of Object.values(all)) {
        const e = decodeBlocklistEntry(text);
        if (e !== undefined && !isExpired(e, now)) next.put(e);
      }
      for (const change of this.pending) this.apply(next, change);
      this.index = next;
      this.loadedAt = now;
      this.opts.onSize?.(next.size);
    } catch (err) {
      this.noteError(err as Error);
    } finally {
      this.pending = undefined;
    }
  }

  private noteError(err: Error): void {
    const now = Date.now();
    if (now - this.lastErrorLog < 10_000) return;
    this.lastErrorLog = now;
    this.opts.logger.warn({ err: err.message }, 'blocklist: Redis unavailable; the last copy stays in force');
  }
}
