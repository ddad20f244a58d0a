import { detachString } from '../v8/detach-string.js';

/** V8 makes a substring of this many characters or more a view into its parent (a SlicedString). */
const SLICE_MIN_LENGTH = 13;

/**
 * A string key as a string of its own. A CLI is a slice of the INVITE's text, and a Map key that is a
 * slice keeps the whole message (~700 bytes) alive for as long as the key is held (under a random-CLI
 * flood the detectors held ~190,000 INVITEs that way).
 */
function own<K>(key: K): K {
  return (typeof key === 'string' && key.length >= SLICE_MIN_LENGTH ? detachString(key) : key) as K;
}

/** What SampledLru keeps in each value: when it was last moved to the recent end (its own bookkeeping). */
export interface LruSlot {
  lruSeq: number;
}

/**
 * The bounded counter map of the edge's anomaly detectors: at most `max` keys, least recently used
 * first out. Once full, a new key is admitted one time in `admitOneIn` (evicting the least recently
 * used one), so a flood of one-off keys churns the map slowly while a key that keeps coming back
 * still gets in after a few more tries. Counts kept from admission on are exact.
 *
 * A hit moves a key to the recent end only when it is in the older half of the map (more than
 * max/2 moves or admissions ago): a key in the recent half is that far from eviction already. So a
 * key used at least once per max/2 admissions is never evicted, as with a strict LRU, and most hits
 * cost one Map lookup instead of a delete and a re-insert (which also churned the Map's table).
 *
 * The oldest key is read with one iterator kept across evictions: a fresh `keys().next()` walks
 * over every deleted slot V8 keeps at the front of the table until its next rehash (thousands,
 * ~5 µs an eviction at 10,000 keys), where the kept one resumes past them. It is renewed every
 * max/2 moves and admissions, so it never holds old tables of the Map for long.
 */
export class SampledLru<K, V extends LruSlot> {
  private readonly map = new Map<K, V>();
  private tick = 0;
  /** Moves and admissions so far: a value's lruSeq is this count when it was last put at the end. */
  private seq = 0;
  private readonly half: number;
  private oldest: Iterator<K> | undefined;
  private oldestSince = 0;

  constructor(
    private readonly max: number,
    private readonly onEvict: () => void,
    private readonly admitOneIn = 16,
  ) {
    this.half = Math.max(1, Math.floor(max / 2));
  }

  get size(): number {
    return this.map.size;
  }

  /** The value of `key`, now counted as recently used; undefined when not held. */
  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined && this.seq - v.lruSeq >= this.half) {
      this.map.delete(key);
      v.lruSeq = ++this.seq;
      this.map.set(own(key), v);
    }
    return v;
  }

  delete(key: K): void {
    this.map.delete(key);
  }

  /** Adds a key not held: at once while there is room, else if it wins the admission draw. */
  admit(key: K, value: V): void {
    if (this.map.size >= this.max) {
      if (++this.tick % this.admitOneIn !== 0) return;
      this.evictOldest();
      this.onEvict();
    }
    value.lruSeq = ++this.seq;
    this.map.set(own(key), value);
  }

  private evictOldest(): void {
    if (this.oldest === undefined || this.seq - this.oldestSince >= this.half) {
      this.oldest = this.map.keys();
      this.oldestSince = this.seq;
    }
    let first = this.oldest.next();
    if (first.done === true) {
      // Run out (the map was emptied meanwhile): start over.
      this.oldest = this.map.keys();
      first = this.oldest.next();
    }
    if (first.done !== true) this.map.delete(first.value);
  }
}
