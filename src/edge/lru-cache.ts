/**
 * A bounded memo table with approximately-LRU eviction in O(1): two generations of Maps. Lookups
 * hit the young generation, or the old one and get promoted; when the young one is full it becomes
 * the old one and the previous old one is dropped whole. Unlike delete-and-reinsert LRU on one Map,
 * this leaves no trail of deleted entries for V8 to skip over, which at thousands of distinct
 * callers per second cost more than the lookups it saved.
 */
export class LruCache<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private readonly generationSize: number;

  constructor(maxEntries: number) {
    if (!(maxEntries >= 1)) throw new RangeError('LruCache needs maxEntries >= 1');
    this.generationSize = Math.max(1, Math.floor(maxEntries / 2));
  }

  /** Entries held (never more than maxEntries, rounded down to even). */
  get size(): number {
    return this.young.size + this.old.size;
  }

  get(key: K): V | undefined {
    const v = this.young.get(key);
    if (v !== undefined) return v;
    const o = this.old.get(key);
    if (o !== undefined) {
      this.old.delete(key);
      this.insert(key, o);
    }
    return o;
  }

  set(key: K, value: V): void {
    if (this.young.has(key)) {
      this.young.set(key, value);
      return;
    }
    this.old.delete(key);
    this.insert(key, value);
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
  }

  private insert(key: K, value: V): void {
    if (this.young.size >= this.generationSize) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }
}
