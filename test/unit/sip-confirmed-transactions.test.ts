import { describe, expect, it } from 'vitest';
import { ConfirmedTransactions, FP_NONE, FP_SAME_CALL } from '../../src/sip/transactions/confirmed-transactions.js';
import { FingerprintTable } from '../../src/v8/fingerprint-table.js';
import { StringFingerprint } from '../../src/sip/transactions/string-fingerprint.js';

describe('StringFingerprint', () => {
  it('is stable for a string, differs between strings and between seeds', () => {
    const f = new StringFingerprint(Buffer.from('0123456789abcdef', 'hex'));
    f.of('call-1@host');
    const first = [f.a, f.b];
    f.of('call-2@host');
    expect([f.a, f.b]).not.toEqual(first);
    f.of('call-1@host');
    expect([f.a, f.b]).toEqual(first);
    const g = new StringFingerprint(Buffer.from('fedcba9876543210', 'hex'));
    g.of('call-1@host');
    expect([g.a, g.b]).not.toEqual(first);
    expect(Number.isInteger(f.a) && f.a >= -(2 ** 31) && f.a < 2 ** 31).toBe(true);
  });

  it('has no collisions over 200,000 similar Call-IDs', () => {
    const f = new StringFingerprint();
    const seen = new Set<string>();
    for (let i = 0; i < 200_000; i++) {
      f.of(`${i}-25191@127.0.0.1`);
      seen.add(`${f.a},${f.b}`);
    }
    expect(seen.size).toBe(200_000);
  });
});

describe('FingerprintTable', () => {
  it('finds records by call and key, reports a call on another key, and keeps them through growth', () => {
    const t = new FingerprintTable(16);
    // Same low bits for every call: worst-case probing.
    for (let i = 0; i < 5000; i++) t.add(i << 16, i, i * 7, i * 11, i % 300);
    expect(t.size).toBe(5000);
    for (let i = 0; i < 5000; i += 37) {
      expect(t.find(i << 16, i, i * 7, i * 11)).toBe(i % 300);
      expect(t.find(i << 16, i, i * 7 + 1, i * 11)).toBe(FP_SAME_CALL);
    }
    expect(t.find(5001 << 16, 5001, 0, 0)).toBe(FP_NONE);
    t.add(3 << 16, 3, 99, 99, 42); // a second branch of call 3
    expect(t.find(3 << 16, 3, 99, 99)).toBe(42);
    expect(t.find(3 << 16, 3, 21, 33)).toBe(3);
    t.clear();
    expect(t.size).toBe(0);
    expect(t.find(3 << 16, 3, 21, 33)).toBe(FP_NONE);
    t.add(1, 2, 3, 4, 0);
    expect(t.find(1, 2, 3, 4)).toBe(0);
  });
});

/** What the transaction table does for one transaction: fingerprints at creation, the record at its ACK. */
function add(c: ConfirmedTransactions, callId: string, key: string, payload: number, now: number): void {
  const fp = { callFpA: 0, callFpB: 0, keyFpA: 0, keyFpB: 0 };
  c.stamp(callId, key, fp);
  c.addStamped(fp, payload, now);
}

describe('ConfirmedTransactions', () => {
  it('holds a record for more than the lifetime and at most 1.5 times it (3 generations)', () => {
    const c = new ConfirmedTransactions(1000);
    add(c, 'a@h', 'z9hG4bK-a|h:5060', 2, 0);
    for (const t of [0, 400, 999, 1000, 1499]) {
      c.rotate(t);
      expect(c.find('a@h', 'z9hG4bK-a|h:5060'), `at ${t} ms`).toBe(2);
    }
    c.rotate(1500);
    expect(c.find('a@h', 'z9hG4bK-a|h:5060')).toBe(FP_NONE);
    expect(c.size).toBe(0);
  });

  it('ages each record from its own insertion, and restarts cleanly after an idle spell', () => {
    const c = new ConfirmedTransactions(1000);
    add(c, 'a@h', 'ka', 0, 0);
    add(c, 'b@h', 'kb', 1, 499); // same generation as a
    add(c, 'd@h', 'kd', 3, 500); // next generation
    c.rotate(1500);
    expect(c.find('a@h', 'ka')).toBe(FP_NONE);
    expect(c.find('b@h', 'kb')).toBe(FP_NONE);
    expect(c.find('d@h', 'kd')).toBe(3);
    c.rotate(2000);
    expect(c.size).toBe(0);
    // After a long idle spell a new record still lives a full lifetime.
    add(c, 'e@h', 'ke', 4, 100_000.5);
    c.rotate(101_000);
    expect(c.find('e@h', 'ke')).toBe(4);
    c.rotate(101_501);
    expect(c.find('e@h', 'ke')).toBe(FP_NONE);
  });

  it('tells a retransmission (same key) from the same call on another branch', () => {
    const c = new ConfirmedTransactions(5000);
    add(c, 'call@h', 'branch-1', 0, 10);
    expect(c.find('call@h', 'branch-1')).toBe(0);
    expect(c.find('call@h', 'branch-2')).toBe(FP_SAME_CALL);
    expect(c.find('other@h', 'branch-1')).toBe(FP_NONE);
    c.clear();
    expect(c.find('call@h', 'branch-1')).toBe(FP_NONE);
  });

  it('finds a record added from fingerprints stamped earlier, as if added by strings', () => {
    const c = new ConfirmedTransactions(5000);
    const fp = { callFpA: 0, callFpB: 0, keyFpA: 0, keyFpB: 0 };
    expect(c.find('s@h', 'k1')).toBe(FP_NONE);
    c.stamp('s@h', 'k1', fp); // right after find(): the memo
    c.stamp('other@h', 'k2', { ...fp });
    const fresh = { ...fp };
    c.stamp('s@h', 'k1', fresh); // hashed again
    expect(fresh).toEqual(fp);
    c.addStamped(fp, 7, 0);
    expect(c.find('s@h', 'k1')).toBe(7);
    expect(c.find('s@h', 'k3')).toBe(FP_SAME_CALL);
  });
});
