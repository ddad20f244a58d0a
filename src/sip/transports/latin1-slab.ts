const SLAB_BYTES = 64 * 1024;

/**
 * Encodes outgoing SIP messages (latin1 text) into slices of one large buffer, a fresh one whenever
 * it is used up, so that a response costs a copy and no allocation of its own. Node's Buffer.from
 * does the same with an 8 KB pool, which at thousands of responses per second meant a new
 * ArrayBuffer (with its external-memory bookkeeping) every twenty responses.
 *
 * Space is never reused: a slice stays valid for as long as anything (a queued send) holds it, and
 * a slab goes back to the garbage collector once no slice of it is reachable. Callers must not keep
 * slices for long, or they keep their whole slab alive; transactions keep the text instead.
 */
export class Latin1Slab {
  private slab: Buffer = Buffer.allocUnsafeSlow(SLAB_BYTES);
  private used = 0;

  encode(text: string): Buffer {
    const n = text.length;
    if (n > SLAB_BYTES / 4) return Buffer.from(text, 'latin1');
    if (this.used + n > SLAB_BYTES) {
      this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.used = 0;
    }
    const start = this.used;
    this.slab.write(text, start, n, 'latin1');
    // Keep slices 8-byte aligned, as Node's own pool does.
    this.used = (start + n + 7) & ~7;
    return this.slab.subarray(start, start + n);
  }
}
