import type { Logger } from '../log/logger.js';
import type { RedisConnection } from '../redis/redis-connection.js';
import { RedisSyncedCopy } from '../redis/redis-synced-copy.js';
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
 * An edge's copy of the blocklist, kept in sync like the pending numbers (RedisSyncedCopy): every
 * change announced on the channel is applied at once (a change made on any node reaches every edge
 * within a round trip), plus a full reload every `reloadMs` and after every reconnect of the
 * subscriber. A reload builds a new index and swaps it in: a match sees the old copy or the new
 * one, never half of one. Until the first load, and while Redis is away, the last copy stays in force.
 */
export class BlocklistMirror extends RedisSyncedCopy<BlocklistIndex> {
  constructor(private readonly mirror: BlocklistMirrorOptions) {
    super({
      subscriber: mirror.subscriber, channel: mirror.keys.channel, reloadMs: mirror.reloadMs, logger: mirror.logger,
      unavailableMessage: 'blocklist: Redis unavailable; the last copy stays in force',
    }, new BlocklistIndex());
    this.start();
  }

  /** The copy in force; replaced as a whole by a reload, so read it once per call. */
  get current(): BlocklistIndex {
    return this.copy;
  }

  protected apply(index: BlocklistIndex, message: string): boolean {
    let change: BlocklistChange;
    try {
      change = JSON.parse(message) as BlocklistChange;
    } catch {
      return false;
    }
    const added = change.op === 'add' ? [change.entry] : change.op === 'add-many' && Array.isArray(change.entries) ? change.entries : undefined;
    if (added !== undefined) {
      // Decoded as a stored entry is, so a malformed one is skipped the same way.
      for (const entry of added) {
        const e = decodeBlocklistEntry(JSON.stringify(entry));
        if (e !== undefined) index.put(e);
      }
    } else if (change.op === 'remove' && typeof change.field === 'string') {
      index.removeField(change.field);
    }
    return true;
  }

  protected async load(now: number): Promise<BlocklistIndex> {
    const all = await this.mirror.reader.hgetall(this.mirror.keys.hash);
    const next = new BlocklistIndex();
    for (const text of Object.values(all)) {
      const e = decodeBlocklistEntry(text);
      if (e !== undefined && !isExpired(e, now)) next.put(e);
    }
    return next;
  }

  protected override changed(): void {
    this.mirror.onSize?.(this.copy.size);
  }

  protected override reloaded(): void {
    this.mirror.onSize?.(this.copy.size);
  }
}
