/** Words per record: call fingerprint (2), key fingerprint (2), payload + 1 (0 marks a free slot). */
const STRIDE = 5;
const MIN_SLOTS = 1024;
/** Presence bits, indexed by call fingerprint bits: 2^18 bits = 32 KB, small enough to stay in cache. */
const FILTER_BITS = 18;
const FILTER_SHIFT = 32 - FILTER_BITS;

/** What find() reports besides a payload (payloads are >= 0). */
export const FP_NONE = -1;
/** A record with this call fingerprint exists, but none with this key fingerprint. */
export const FP_SAME_CALL = -2;

/**
 * An insert-only open-addressing hash table of (call fingerprint, key fingerprint, payload) records
 * in one Int32Array: no JavaScript object per entry, so tens of thousands of entries held for
 * seconds cost the garbage collector nothing. Records are found by their call fingerprint (linear
 * probing); several may share one (a call resent on new branches). There is no removal: a table
 * is emptied as a whole (ConfirmedTransactions, the edge aggregates' Call-ID dedupe).
 */
export class FingerprintTable {
  private slots: Int32Array;
  private mask: number;
  /**
   * One bit per call fingerprint class: most lookups are for new calls, and a clear bit answers
   * them without touching the (megabyte-sized, cache-cold) slots.
   */
  private readonly filter = new Int32Array(1 << (FILTER_BITS - 5));
  size = 0;

  constructor(initialSlots = MIN_SLOTS) {
    const n = Math.max(MIN_SLOTS, 1 << Math.ceil(Math.log2(initialSlots)));
    this.slots = new Int32Array(n * STRIDE);
    this.mask = n - 1;
  }

  add(callA: number, callB: number, keyA: number, keyB: number, payload: number): void {
    // Kept at most half full, so probe runs stay short.
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    this.put(callA, callB, keyA, keyB, payload + 1);
    const bit = callB >>> FILTER_SHIFT;
    this.filter[bit >>> 5] = (this.filter[bit >>> 5] as number) | (1 << (bit & 31));
    this.size++;
  }

  /** The payload of the record for this call and key, else FP_SAME_CALL or FP_NONE. */
  find(callA: number, callB: number, keyA: number, keyB: number): number {
    const bit = callB >>> FILTER_SHIFT;
    if (((this.filter[bit >>> 5] as number) & (1 << (bit & 31))) === 0) return FP_NONE;
    const slots = this.slots;
    const mask = this.mask;
    let result = FP_NONE;
    for (let i = callA & mask; ; i = (i + 1) & mask) {
      const o = i * STRIDE;
      const p = slots[o + 4] as number;
      if (p === 0) return result;
      if (slots[o] === callA && slots[o + 1] === callB) {
        if (slots[o + 2] === keyA && slots[o + 3] === keyB) return p - 1;
        result = FP_SAME_CALL;
      }
    }
  }

  /** Empties the table; one that grew large for a burst goes back to a modest size. */
  clear(): void {
    if (this.size === 0) return;
    this.filter.fill(0);
    const n = this.mask + 1;
    if (n > 4 * MIN_SLOTS && this.size * 8 < n) {
      this.slots = new Int32Array((n / 2) * STRIDE);
      this.mask = n / 2 - 1;
    } else {
      this.slots.fill(0);
    }
    this.size = 0;
  }

  private put(callA: number, callB: number, keyA: number, keyB: number, stored: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = callA & mask;
    while (slots[i * STRIDE + 4] !== 0) i = (i + 1) & mask;
    const o = i * STRIDE;
    slots[o] = callA;
    slots[o + 1] = callB;
    slots[o + 2] = keyA;
    slots[o + 3] = keyB;
    slots[o + 4] = stored;
  }

  private grow(): void {
    const old = this.slots;
    const n = (this.mask + 1) * 2;
    this.slots = new Int32Array(n * STRIDE);
    this.mask = n - 1;
    for (let o = 0; o < old.length; o += STRIDE) {
      const stored = old[o + 4] as number;
      if (stored !== 0) this.put(old[o] as number, old[o + 1] as number, old[o + 2] as number, old[o + 3] as number, stored);
    }
  }
}
