import { describe, expect, it } from 'vitest';
import { TxState, type InviteTransaction } from '../../src/sip/transactions/invite-transaction.js';
import type { ReplyPath } from '../../src/sip/transports/reply-path.js';
import { TransactionTable, type AnsweredInvite } from '../../src/sip/transactions/transaction-table.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits (timers may run late on a loaded machine) until `done()` or `timeoutMs`; returns the wait. */
async function until(done: () => boolean, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while (!done() && performance.now() - t0 < timeoutMs) await sleep(5);
  return performance.now() - t0;
}

function tx(n: number, transport: 'udp' | 'tcp', sent: string[]): AnsweredInvite {
  const reply: ReplyPath = { transport, send: (b) => { sent.push(b.toString('latin1')); return true; } };
  return {
    key: `z9hG4bK-${n}|127.0.0.1:5060`, callId: `call-${n}@test`, trunk: 'loopback',
    response: `SIP/2.0 486 Busy Here\r\nCall-ID: call-${n}@test\r\n\r\n`, code: 486, reply,
  };
}

describe('TransactionTable', () => {
  it('keeps a confirmed UDP transaction as a fingerprint for T4 to 1.25 x T4, then holds nothing', async () => {
    const retransmits: InviteTransaction[] = [];
    const table = new TransactionTable(
      { t1Ms: 50, t2Ms: 400, t4Ms: 200, maxTransactions: 100, tickMs: 10 },
      { retransmit: (t) => retransmits.push(t), retransmitShed: () => undefined, ackTimeout: () => undefined },
    );
    table.start();
    const sent: string[] = [];
    const t = table.open(tx(1, 'udp', sent), performance.now());
    expect(table.get(t.key)).toBe(t);
    expect(t).toMatchObject({ state: TxState.Completed, trunk: 'loopback', code: 486, gInterval: 50 });
    const confirmedAt = performance.now();
    table.confirm(t, confirmedAt);
    expect(table.get(t.key)).toBeUndefined();
    expect(table.confirmedLookup(t.callId, t.key)).toEqual({ kind: 'confirmed', trunk: 'loopback' });
    expect(table.confirmedLookup(t.callId, 'z9hG4bK-other|127.0.0.1:5060').kind).toBe('same_call');
    expect(table.size).toBe(1);
    await sleep(120);
    // Still there within T4 (only checked when the sleep itself was not late).
    if (performance.now() - confirmedAt < 200) expect(table.confirmedLookup(t.callId, t.key)).toEqual({ kind: 'confirmed', trunk: 'loopback' });
    // Gone after T4, rotated by the timer alone: never before T4, and soon after 1.25 x T4.
    await until(() => table.size === 0, 3000);
    const heldMs = performance.now() - confirmedAt;
    expect(table.size).toBe(0);
    expect(heldMs).toBeGreaterThanOrEqual(200);
    expect(table.confirmedLookup(t.callId, t.key).kind).toBe('none');
    expect(retransmits).toHaveLength(0); // confirmed before timer G: never resent
    table.stop();
  });

  it('resends an unacknowledged UDP response on timer G and gives up on timer H', async () => {
    const retransmits: InviteTransaction[] = [];
    const timeouts: InviteTransaction[] = [];
    const table = new TransactionTable(
      { t1Ms: 20, t2Ms: 40, t4Ms: 50, maxTransactions: 100, tickMs: 5 },
      { retransmit: (t) => { retransmits.push(t); t.reply.send(Buffer.from(t.response, 'latin1')); }, retransmitShed: () => undefined, ackTimeout: (t) => timeouts.push(t) },
    );
    table.start();
    const sent: string[] = [];
    const t = table.open(tx(2, 'udp', sent), performance.now());
    const waited = await until(() => timeouts.length > 0, 5000); // timer H = 64 x T1
    expect(waited).toBeGreaterThanOrEqual(64 * 20 - 20);
    expect(retransmits.length).toBeGreaterThanOrEqual(3);
    expect(sent[0]).toContain('Call-ID: call-2@test');
    expect(timeouts).toEqual([t]);
    expect(table.size).toBe(0);
    table.stop();
  });

  it('caps timer G at its budget (a burst, then a tenth of the INVITEs answered plus a floor) and keeps the back-off of a shed resend', () => {
    let resent = 0;
    let shed = 0;
    const table = new TransactionTable(
      { t1Ms: 500, t2Ms: 4000, t4Ms: 5000, maxTransactions: 10_000 },
      { retransmit: () => { resent++; }, retransmitShed: () => { shed++; }, ackTimeout: () => undefined },
    );
    // Driven by hand (sweep(now) with made-up times); not started, so no interval runs.
    const opened = [];
    for (let n = 0; n < 3000; n++) opened.push(table.open(tx(n, 'udp', []), 0));
    table.sweep(500);
    // The burst allowance: 2,000 resent at once, the other 1,000 shed.
    expect(resent).toBe(2000);
    expect(shed).toBe(1000);
    // Every transaction, resent or not, backs off to 2 x T1 and is still waiting for its ACK.
    expect(opened.every((t) => t.gInterval === 1000 && t.state === TxState.Completed)).toBe(true);
    // Spent, the budget grows by a tenth of each INVITE answered and by the floor (50/s).
    for (let n = 3000; n < 4000; n++) table.open(tx(n, 'udp', []), 600);
    table.sweep(1500);
    expect(resent).toBe(2000 + 100 + 50);
    expect(resent + shed).toBe(3000 + 3000 + 1000);
  });

  it('ends a TCP transaction at its ACK, and counts live Call-IDs', () => {
    const table = new TransactionTable(
      { t1Ms: 500, t2Ms: 4000, t4Ms: 5000, maxTransactions: 2 },
      { retransmit: () => undefined, retransmitShed: () => undefined, ackTimeout: () => undefined },
    );
    table.start();
    const a = table.open(tx(3, 'tcp', []), 0);
    table.open({ ...tx(4, 'tcp', []), callId: a.callId }, 0);
    expect(table.liveCalls(a.callId)).toBe(2);
    expect(table.full).toBe(true);
    table.confirm(a, 1);
    expect(table.liveCalls(a.callId)).toBe(1);
    expect(table.confirmedLookup(a.callId, a.key).kind).toBe('none'); // TCP: nothing kept after the ACK
    expect(table.size).toBe(1);
    table.stop();
    table.clear();
    expect(table.size).toBe(0);
  });
});
