import { FP_NONE, FingerprintTable } from '../../v8/fingerprint-table.js';
import { StringFingerprint } from './string-fingerprint.js';

export { FP_NONE, FP_SAME_CALL } from '../../v8/fingerprint-table.js';

/** A transaction's fingerprints, computed once when it is created and kept until it is confirmed. */
export interface TxFingerprints {
  callFpA: number;
  callFpB: number;
  keyFpA: number;
  keyFpB: number;
}

/**
 * UDP INVITE transactions in the Confirmed state (ACK received, RFC 3261 §17.2.1): for T4 they only
 * absorb retransmitted ACKs and INVITEs, and their Call-ID still marks the call as seen. That is
 * all they need, so each is kept as two 64-bit fingerprints (Call-ID and transaction key) and a
 * small payload in typed arrays instead of as an object: at 8,000 calls/s, 40,000 transaction
 * objects living for 5 s were promoted to V8's old generation and later collected there, a large
 * share of the daemon's CPU per call.
 *
 * Expiry is by generations rather than per entry: records are added to the newest of `generations`
 * tables, and every lifetime / (generations - 1) the oldest table is emptied and becomes the newest.
 * A record therefore lives more than `lifetimeMs` and at most lifetimeMs × generations /
 * (generations - 1) (T4 to 1.5 × T4 with 3, to 1.25 × T4 with 5), and nothing is done per record when it goes.
 *
 * Fingerprints collide with probability about n / 2^64 per lookup (n records held): a new call
 * would be mistaken for a retransmission about once in 10^14 calls at 40,000 records.
 */
export class ConfirmedTransactions {
  /** Newest first. */
  private readonly tables: FingerprintTable[] = [];
  private readonly periodMs: number;
  private nextRotation = Number.NEGATIVE_INFINITY;
  private readonly call = new StringFingerprint();
  private readonly key = new StringFingerprint();
  private lastCallId: string | undefined;
  private lastKey: string | undefined;

  constructor(lifetimeMs: number, generations = 3) {
    if (generations < 2) throw new RangeError('ConfirmedTransactions: generations must be at least 2');
    this.periodMs = lifetimeMs / (generations - 1);
    for (let i = 0; i < generations; i++) this.tables.push(new FingerprintTable());
  }

  /** Records held (some may be past lifetimeMs until their generation is emptied). */
  get size(): number {
    let n = 0;
    for (const t of this.tables) n += t.size;
    return n;
  }

  /** Holds a confirmed transaction by the fingerprints stamp() took when it was created. */
  addStamped(fp: TxFingerprints, payload: number, now: number): void {
    this.rotate(now);
    (this.tables[0] as FingerprintTable).add(fp.callFpA, fp.callFpB, fp.keyFpA, fp.keyFpB, payload);
  }

  /** Writes the fingerprints of this Call-ID and key into `fp` (free right after find() on them). */
  stamp(callId: string, key: string, fp: TxFingerprints): void {
    this.hash(callId, key);
    fp.callFpA = this.call.a;
    fp.callFpB = this.call.b;
    fp.keyFpA = this.key.a;
    fp.keyFpB = this.key.b;
  }

  /** The payload of the transaction with this Call-ID and key, else FP_SAME_CALL or FP_NONE. */
  find(callId: string, key: string): number {
    this.hash(callId, key);
    const { a: ca, b: cb } = this.call;
    const { a: ka, b: kb } = this.key;
    let result = FP_NONE;
    for (const t of this.tables) {
      if (t.size === 0) continue;
      const r = t.find(ca, cb, ka, kb);
      if (r >= 0) return r;
      if (r !== FP_NONE) result = r;
    }
    return result;
  }

  /** Sets this.call and this.key (kept for stamp()), unless they already hold these strings' fingerprints. */
  private hash(callId: string, key: string): void {
    if (callId !== this.lastCallId) {
      this.call.of(callId);
      this.lastCallId = callId;
    }
    if (key !== this.lastKey) {
      this.key.of(key);
      this.lastKey = key;
    }
  }

  /** Time until rotate() next has work (0 when it is due). */
  msUntilRotation(now: number): number {
    return Math.max(0, this.nextRotation - now);
  }

  /** Empties the generations that are due. Called by the timer sweep and on every add. */
  rotate(now: number): void {
    if (now < this.nextRotation) return;
    if (this.size === 0) {
      this.nextRotation = now + this.periodMs;
      return;
    }
    const tables = this.tables;
    while (now >= this.nextRotation) {
      const oldest = tables.pop() as FingerprintTable;
      oldest.clear();
      tables.unshift(oldest);
      this.nextRotation += this.periodMs;
      // Idle for longer than every generation's life: all are empty now.
      if (this.size === 0) this.nextRotation = now + this.periodMs;
    }
  }

  clear(): void {
    for (const t of this.tables) t.clear();
    this.lastCallId = undefined;
    this.lastKey = undefined;
    this.nextRotation = Number.NEGATIVE_INFINITY;
  }
}
