/**
 * Remembers which call first presented a PASSporT, for as long as that PASSporT could still pass the
 * freshness check. Keyed by a digest of the signature; the value is the Call-ID, so the same call
 * delivered twice (a retried job, a redelivery) is not a replay, and another call with it is.
 */
export interface ReplayStore {
  /**
   * Records `callId` for `key` unless the key is already held, and returns the Call-ID that holds it
   * (this call's own for a first sighting). Rejects when the store cannot answer.
   */
  claim(key: string, callId: string, ttlMs: number): Promise<string>;
}

interface Held {
  callId: string;
  expiresAt: number;
}

/**
 * One worker's replay memory: a Map in insertion order, which with one TTL for every entry is also
 * expiry order, so expired entries are dropped from the front as new ones arrive. When full, the
 * oldest is evicted (and counted): it is the nearest to leaving the freshness window anyway. Size it
 * above (SHAKEN calls per second) × (window + skew) to keep the guarantee exact.
 */
export class MemoryReplayStore implements ReplayStore {
  private readonly held = new Map<string, Held>();
  private evictedCount = 0;

  constructor(private readonly maxEntries: number, private readonly clock: () => number = Date.now) {
    if (!(maxEntries >= 1)) throw new RangeError('MemoryReplayStore needs maxEntries >= 1');
  }

  get size(): number {
    return this.held.size;
  }

  /** Live entries dropped to stay within maxEntries. */
  get evicted(): number {
    return this.evictedCount;
  }

  claim(key: string, callId: string, ttlMs: number): Promise<string> {
    const now = this.clock();
    const current = this.held.get(key);
    if (current !== undefined && current.expiresAt > now) return Promise.resolve(current.callId);
    if (current !== undefined) this.held.delete(key);
    for (const [k, v] of this.held) {
      if (v.expiresAt > now && this.held.size < this.maxEntries) break;
      this.held.delete(k);
      if (v.expiresAt > now) this.evictedCount++;
    }
    this.held.set(key, { callId, expiresAt: now + ttlMs });
    return Promise.resolve(callId);
  }
}
