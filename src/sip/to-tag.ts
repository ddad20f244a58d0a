import { randomBytes } from 'node:crypto';

/**
 * To-tags derived from the request (Call-ID, branch/CSeq) and a per-process secret, so a stateless
 * answer to a retransmitted request carries the same tag as the first answer (RFC 3261 §8.2.7)
 * without keeping state for it. 64 bits of FNV-1a-style mixing, as 16 hex digits: cheap on the hot path and unique enough.
 */
export class ToTagGenerator {
  private readonly seedA: number;
  private readonly seedB: number;

  constructor(seed: Buffer = randomBytes(8)) {
    this.seedA = seed.readUInt32LE(0) ^ 0x811c9dc5;
    this.seedB = seed.readUInt32LE(4) ^ 0x01000193;
  }

  tagFor(key: string): string {
    let a = this.seedA;
    let b = this.seedB;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    // Sixteen hex digits written directly: Number#toString(36) of a uint32 above the Smi range went
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

const TAG_PARAM = /;\s*tag\s*=/i;

/** True when the To (or From) header value already carries a tag parameter. */
export function hasTag(nameAddr: string): boolean {
  const close = nameAddr.lastIndexOf('>');
  return TAG_PARAM.test(close === -1 ? nameAddr : nameAddr.slice(close));
}
