import { randomBytes } from 'node:crypto';

/**
 * To-tags derived from the request (Call-ID, branch/CSeq) and a per-process secret, so a stateless
 * answer to a retransmitted request carries the same tag as the first answer (RFC 3261 §8.2.7)
 * without keeping state for it. 64 bits of FNV-1a: cheap on the hot path and unique enough.
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
    return (a >>> 0).toString(36) + (b >>> 0).toString(36);
  }
}

const TAG_PARAM = /;\s*tag\s*=/i;

/** True when the To (or From) header value already carries a tag parameter. */
export function hasTag(nameAddr: string): boolean {
  const close = nameAddr.lastIndexOf('>');
  return TAG_PARAM.test(close === -1 ? nameAddr : nameAddr.slice(close));
}
