import type { RedisConnection } from '../redis/redis-connection.js';
import {
  blocklistField, decodeBlocklistEntry, isExpired, type BlocklistEntry, type BlocklistInput, type BlocklistKind,
} from './blocklist-entry.js';

/** Redis names of the blocklist, under the hash-tagged prefix (one Cluster slot with the rest). */
export function blocklistKeys(prefix: string): { hash: string; channel: string } {
  return { hash: `${prefix}:blocklist`, channel: `${prefix}:blocklist:changes` };
}

/** A change announced on the channel; edges apply it to their copy at once. */
export type BlocklistChange =
  | { op: 'add'; entry: BlocklistEntry }
  | { op: 'add-many'; entries: BlocklistEntry[] }
  | { op: 'remove'; field: string };

/**
 * The blocklist in Redis, shared by every node: one hash (field `kind:value` → entry JSON), and a
 * pub/sub channel announcing each change so that every edge's copy follows within a round trip.
 * Expired entries are removed lazily, by list().
 */
export class BlocklistStore {
  readonly keys: { hash: string; channel: string };

  constructor(private readonly redis: RedisConnection, prefix: string) {
    this.keys = blocklistKeys(prefix);
  }

  /** Every entry in force, sorted by kind then value; lapsed ones are deleted on the way. */
  async list(now = Date.now()): Promise<BlocklistEntry[]> {
    const all = await this.redis.hgetall(this.keys.hash);
    const out: BlocklistEntry[] = [];
    const stale: string[] = [];
    for (const [field, text] of Object.entries(all)) {
      const e = decodeBlocklistEntry(text);
      if (e === undefined || isExpired(e, now)) stale.push(field);
      else out.push(e);
    }
    if (stale.length > 0) await this.redis.hdel(this.keys.hash, ...stale);
    return out.sort((a, b) => a.kind.localeCompare(b.kind) || a.value.localeCompare(b.value));
  }

  /** Adds or replaces the entry for (kind, value) and announces it. */
  async add(input: BlocklistInput, createdBy: string, now = Date.now()): Promise<BlocklistEntry> {
    const entry: BlocklistEntry = { ...input, createdAt: now, createdBy };
    const text = JSON.stringify(entry);
    await this.redis.hset(this.keys.hash, blocklistField(entry.kind, entry.value), text);
    await this.announce({ op: 'add', entry });
    return entry;
  }

  /**
   * Adds or replaces several entries in one write and one announcement: the anomaly detectors'
   * automatic entries, which a wide flood produces by the hundred per second.
   */
  async addMany(inputs: readonly BlocklistInput[], createdBy: string, now = Date.now()): Promise<BlocklistEntry[]> {
    if (inputs.length === 0) return [];
    const entries = inputs.map((input): BlocklistEntry => ({ ...input, createdAt: now, createdBy }));
    const fields: Record<string, string> = {};
    for (const e of entries) fields[blocklistField(e.kind, e.value)] = JSON.stringify(e);
    await this.redis.hset(this.keys.hash, fields);
    await this.announce({ op: 'add-many', entries });
    return entries;
  }

  /** Removes the entry for (kind, value); false when there was none. */
  async remove(kind: BlocklistKind, value: string): Promise<boolean> {
    const field = blocklistField(kind, value);
    const removed = await this.redis.hdel(this.keys.hash, field);
    if (removed === 0) return false;
    await this.announce({ op: 'remove', field });
    return true;
  }

  private async announce(change: BlocklistChange): Promise<void> {
    // A lost announcement is caught by the edges' periodic reload.
    await this.redis.publish(this.keys.channel, JSON.stringify(change));
  }
}
