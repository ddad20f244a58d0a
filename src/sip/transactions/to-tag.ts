import { StringFingerprint } from './string-fingerprint.js';

/**
 * To-tags derived from the request (Call-ID, branch/CSeq) and a per-process secret, so a stateless
 * answer to a retransmitted request carries the same tag as the first answer (RFC 3261 §8.2.7)
 * without keeping state for it: the request's 64-bit fingerprint as 16 hex digits.
 */
export class ToTagGenerator {
  private readonly fp: StringFingerprint;

  constructor(seed?: Buffer) {
    this.fp = new StringFingerprint(seed);
  }

  tagFor(key: string): string {
    this.fp.of(key);
    const a = this.fp.a;
    const b = this.fp.b;
    // Sixteen hex digits written directly: Number#toString of a uint32 above the Smi range went
    // through a floating-point radix conversion costing ~0.5 µs per call.
    return String.fromCharCode(
      hex(a >>> 28), hex((a >>> 24) & 15), hex((a >>> 20) & 15), hex((a >>> 16) & 15),
      hex((a >>> 12) & 15), hex((a >>> 8) & 15), hex((a >>> 4) & 15), hex(a & 15),
      hex(b >>> 28), hex((b >>> 24) & 15), hex((b >>> 20) & 15), hex((b >>> 16) & 15),
      hex((b >>> 12) & 15), hex((b >>> 8) & 15), hex((b >>> 4) & 15), hex(b & 15),
    );
  }
}

/** Char code of one lowercase hex digit. */
function hex(n: number): number {
  return n < 10 ? 48 + n : 87 + n;
}
