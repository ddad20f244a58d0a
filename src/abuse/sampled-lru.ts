/** V8 makes a substring of this many characters or more a view into its parent (SlicedString). */
const SLICE_MIN_LENGTH = 13;

/**
 * `key` as a string of its own. A CLI is a slice of the INVITE's text, and a map key that is a slice
 * keeps the whole message (~700 bytes) alive as long as the key is held. Slicing a concatenation first
 * copies it into one fresh string, so the result refers to that 14-character copy only.
 */
function ownKey(key: string): string {
  return key.length < SLICE_MIN_LENGTH ? key : (' ' + key).slice(1);
}

/**
 * The bounded counter map of the edge's anomaly detectors: at most `max` keys, least recently used
 * first out. Once full, a new key is admitted one time in `admitOneIn` (evicting the least recently
 * used one), so a flood of one-off keys churns the map slowly while a key that keeps coming back
 * still gets in after a few more tries. Counts kept from admission on are exact.
 */
export class SampledLru<V> {
  private readonly map = new Map<string, V>();
  private tick = 0;

  constructor(
    private readonly max: number,
    private readonly onEvict: () => void,
    private readonly admitOneIn = 16,
  ) {}

  get size(): number {
    return this.map.size;
  }

  /** Removes and returns the value of `key`; put() it back to keep it, as the most recent. */
  take(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) this.map.delete(key);
    return v;
  }

  put(key: string, value: V): void {
    this.map.set(ownKey(key), value);
  }

  /** Adds a key not held: at once while there is room, else if it wins the admission draw. */
  admit(key: string, value: V): void {
    if (this.map.size >= this.max) {
      if (++this.tick % this.admitOneIn !== 0) return;
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
      this.onEvict();
    }
    this.map.set(ownKey(key), value);
  }
}
