import { randomBytes } from 'node:crypto';

/**
 * A seeded 64-bit fingerprint of a string, as two int32 halves (`a`, `b`) left on the instance so
 * the hot path allocates nothing. The seed is per process: a caller cannot craft Call-IDs that
 * collide in our tables without knowing it.
 */
export class StringFingerprint {
  a = 0;
  b = 0;
  private readonly seedA: number;
  private readonly seedB: number;

  constructor(seed: Buffer = randomBytes(8)) {
    this.seedA = seed.readInt32LE(0) ^ 0x27d4eb2f;
    this.seedB = seed.readInt32LE(4) ^ 0x165667b1;
  }

  /** Sets `a` and `b` for `s`. */
  of(s: string): void {
    let a = this.seedA ^ s.length;
    let b = this.seedB;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    this.a = fmix(a);
    this.b = fmix(b ^ a);
  }
}

/** MurmurHash3's finalizer: every input bit reaches every output bit, so low bits index well. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
