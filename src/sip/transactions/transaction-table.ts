import { ConfirmedTransactions, FP_SAME_CALL } from './confirmed-transactions.js';
import { DelayQueue } from './delay-queue.js';
import { TxState, type InviteTransaction } from './invite-transaction.js';
import type { ReplyPath } from '../transports/index.js';

const RELEASED = '';

/**
 * What the confirmed fingerprints know of a Call-ID and key: nothing, the call confirmed on another
 * key (a new branch of the same call), or this very transaction confirmed and its trunk. The results
 * are shared, frozen objects (one per trunk), so a lookup allocates nothing.
 */
export type ConfirmedLookup =
  | { readonly kind: 'none'; readonly trunk: undefined }
  | { readonly kind: 'same_call'; readonly trunk: undefined }
  | { readonly kind: 'confirmed'; readonly trunk: string };

const NOT_CONFIRMED: ConfirmedLookup = Object.freeze({ kind: 'none', trunk: undefined });
const SAME_CALL: ConfirmedLookup = Object.freeze({ kind: 'same_call', trunk: undefined });

/** What the UAS decided and sent for a new INVITE: the table makes the transaction from it. */
export interface AnsweredInvite {
  /** The transaction key (transactionKey()), detached from the message text. */
  key: string;
  /** The Call-ID, detached from the message text. */
  callId: string;
  trunk: string;
  /** The final response as sent, latin1 text. */
  response: string;
  code: number;
  reply: ReplyPath;
}

const GONE: ReplyPath = Object.freeze({ transport: 'udp' as const, send: () => false });

export interface TransactionTimersConfig {
  t1Ms: number;
  t2Ms: number;
  t4Ms: number;
  maxTransactions: number;
  /** Tick of the timer sweep; SIP timers are coarse (500 ms and up), 20 ms is plenty. */
  tickMs?: number;
}

export interface TransactionEvents {
  /** Timer G fired: the final response goes out again. */
  retransmit(tx: InviteTransaction): void;
  /** Timer G fired with its budget spent: the response is not sent again this time (see G_BUDGET_SHARE). */
  retransmitShed(tx: InviteTransaction): void;
  /** Timer H fired: the ACK never came. */
  ackTimeout(tx: InviteTransaction): void;
}

/**
 * Timer G's budget. An overloaded edge reads its ACKs late (they wait in the socket's receive
 * queue), so timer G fires for calls that were in fact acknowledged, and every 486 resent brings
 * another ACK to read: at 16,000 calls/s on a busy 2-core box that spiral sent 350,000 needless
 * retransmissions for 160,000 calls and failed 22,000 of them. Retransmissions are therefore capped
 * at a tenth of the INVITEs answered plus a floor, with a burst allowance. One that is shed is not
 * lost: the transaction keeps its back-off and timer H, and the caller's own INVITE retransmission
 * (timer A) is still answered from the transaction, which is how a stateless UAS is reliable
 * (RFC 3261 §8.2.7). On a healthy trunk, ACKs are rarely lost and the budget is never reached.
 */
// Counted in tenths of a retransmission, so that the share adds up exactly.
const G_BUDGET_SHARE = 1;
const G_BUDGET_COST = 10;
const G_BUDGET_FLOOR_PER_MS = (50 * G_BUDGET_COST) / 1000;
const G_BUDGET_BURST = 2000 * G_BUDGET_COST;

/**
 * INVITE server transactions with their timers. One interval sweeps a handful of FIFO delay queues
 * (one per timer G back-off step, one for H, one for I) instead of one setTimeout per transaction,
 * which keeps per-call cost flat at thousands of calls per second. State is bounded by maxTransactions.
 *
 * Live transactions (Completed, waiting for the ACK) are objects in a Map by key. Once a UDP one is
 * confirmed it moves to ConfirmedTransactions, which keeps only fingerprints until timer I; on TCP
 * it ends at the ACK.
 *
 * Queue entries cannot be removed early, so an entry keeps its transaction reachable until it is
 * due. On UDP timer H is therefore checked when timer G fires (G runs for exactly as long as H
 * matters) rather than by a 32 s queue that would keep every call of the last 32 s in memory; only
 * TCP transactions, which have no timer G, sit in the H queue. A finished transaction also lets go
 * of its response bytes and reply path at once.
 */
export class TransactionTable {
  private readonly byKey = new Map<string, InviteTransaction>();
  /** Live transactions per Call-ID: a carrier resending the same call on a new branch is one call. */
  private readonly callIds = new Map<string, number>();
  private readonly gQueues = new Map<number, DelayQueue<InviteTransaction>>();
  private readonly hQueue: DelayQueue<InviteTransaction>;
  private readonly confirmed: ConfirmedTransactions;
  /** Lookup results by trunk index: a confirmed record keeps its trunk as a number. */
  private readonly confirmedByTrunk: ConfirmedLookup[] = [];
  private readonly trunkIndex = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  /** True while `timer` is the sweep's interval (not a one-off rotation timeout). */
  private ticking = false;
  private enabled = false;
  /** Timer G retransmissions that may go out now (G_BUDGET_*), and when the floor last refilled it. */
  private gBudget = G_BUDGET_BURST;
  private gBudgetAt = 0;

  constructor(
    private readonly cfg: TransactionTimersConfig,
    private readonly events: TransactionEvents,
  ) {
    this.hQueue = new DelayQueue(64 * cfg.t1Ms);
    // Five generations: held T4 to 1.25 x T4. The per-table presence filters keep the extra
    // lookups cheap, and the state (and the transactions gauge) drains soon after T4.
    this.confirmed = new ConfirmedTransactions(cfg.t4Ms, 5);
    for (let d = cfg.t1Ms; ; d = Math.min(d * 2, cfg.t2Ms)) {
      this.gQueues.set(d, new DelayQueue(d));
      if (d >= cfg.t2Ms) break;
    }
  }

  start(): void {
    this.enabled = true;
  }

  stop(): void {
    this.enabled = false;
    this.disarm();
  }

  /**
   * The sweep ticks only while a timer G or H is pending: an idle daemon then wakes for nothing
   * (each wake-up costs real CPU on small VMs), and the tick is coarse (timer G starts at 500 ms).
   * With only confirmed fingerprints left it wakes once per generation rotation instead.
   */
  private arm(): void {
    if (this.ticking || !this.enabled) return;
    this.disarm();
    this.timer = setInterval(() => this.sweep(performance.now()), this.cfg.tickMs ?? 50);
    this.timer.unref();
    this.ticking = true;
  }

  /** Only fingerprints to expire: one wake-up at the next rotation. */
  private armRotation(now: number): void {
    if (this.ticking || this.timer || !this.enabled) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sweep(performance.now());
    }, Math.max(1, Math.ceil(this.confirmed.msUntilRotation(now))));
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.ticking = false;
  }

  /** Timer G and H entries waiting. */
  private timersPending(): number {
    let n = this.hQueue.size;
    for (const q of this.gQueues.values()) n += q.size;
    return n;
  }

  /** Live and confirmed transactions held. */
  get size(): number {
    return this.byKey.size + this.confirmed.size;
  }

  get full(): boolean {
    return this.size >= this.cfg.maxTransactions;
  }

  /** The live (Completed) transaction with this key. */
  get(key: string): InviteTransaction | undefined {
    return this.byKey.get(key);
  }

  /** Whether a confirmed UDP transaction has this key (and its trunk), or this Call-ID on another key. */
  confirmedLookup(callId: string, key: string): ConfirmedLookup {
    const r = this.confirmed.find(callId, key);
    if (r >= 0) return this.confirmedByTrunk[r] as ConfirmedLookup;
    return r === FP_SAME_CALL ? SAME_CALL : NOT_CONFIRMED;
  }

  /** Live transactions carrying this Call-ID; pass it on to add() to spare a second lookup. */
  liveCalls(callId: string): number {
    return this.callIds.get(callId) ?? 0;
  }

  /** Waiting for an ACK (Completed): what a graceful stop waits for. */
  awaitingAck(): number {
    let n = 0;
    for (const tx of this.byKey.values()) if (tx.state === TxState.Completed) n++;
    return n;
  }

  /**
   * The transaction of an INVITE whose final response was just sent (at `now`): held by key, its
   * fingerprints stamped for the Confirmed state (UDP), timer G (UDP) or H (TCP) started.
   * `liveCalls` is what liveCalls() returned for its Call-ID, to spare a second lookup.
   */
  open(answered: AnsweredInvite, now: number, liveCalls: number = this.liveCalls(answered.callId)): InviteTransaction {
    const { key, callId, reply } = answered;
    const udp = reply.transport === 'udp';
    // Every field set here, in one literal: all transactions share one shape.
    const tx: InviteTransaction = {
      key, callId, trunk: answered.trunk, state: TxState.Completed, response: answered.response, code: answered.code, reply,
      gInterval: udp ? this.cfg.t1Ms : 0, ticket: -1, sentAt: now, callFpA: 0, callFpB: 0, keyFpA: 0, keyFpB: 0,
    };
    this.byKey.set(key, tx);
    this.callIds.set(callId, liveCalls + 1);
    this.gBudget += G_BUDGET_SHARE;
    if (udp) this.confirmed.stamp(callId, key, tx);
    this.arm();
    tx.ticket = udp ? this.gQueue(tx.gInterval).push(tx, now) : this.hQueue.push(tx, now);
    return tx;
  }

  /** ACK received: Confirmed until timer I (T4) on UDP, as fingerprints only; over at once on TCP. */
  confirm(tx: InviteTransaction, now: number): void {
    if (tx.state !== TxState.Completed) return;
    const udp = tx.reply.transport === 'udp';
    this.remove(tx);
    if (udp) {
      tx.state = TxState.Confirmed;
      this.confirmed.addStamped(tx, this.trunkId(tx.trunk), now);
      this.armRotation(now);
    }
  }

  private trunkId(name: string): number {
    let i = this.trunkIndex.get(name);
    if (i === undefined) {
      i = this.confirmedByTrunk.length;
      this.confirmedByTrunk.push(Object.freeze({ kind: 'confirmed', trunk: name }));
      this.trunkIndex.set(name, i);
    }
    return i;
  }

  sweep(now: number): void {
    this.gBudget = Math.min(G_BUDGET_BURST, this.gBudget + Math.max(0, now - this.gBudgetAt) * G_BUDGET_FLOOR_PER_MS);
    this.gBudgetAt = now;
    for (const q of this.gQueues.values()) {
      q.expire(now, (tx) => {
        if (tx.state !== TxState.Completed) return;
        if (now - tx.sentAt >= this.hQueue.delayMs) {
          this.events.ackTimeout(tx);
          this.remove(tx);
          return;
        }
        if (this.gBudget >= G_BUDGET_COST) {
          this.gBudget -= G_BUDGET_COST;
          this.events.retransmit(tx);
        } else this.events.retransmitShed(tx);
        tx.gInterval = Math.min(tx.gInterval * 2, this.cfg.t2Ms);
        tx.ticket = this.gQueue(tx.gInterval).push(tx, now);
      });
    }
    this.hQueue.expire(now, (tx) => {
      if (tx.state !== TxState.Completed) return;
      this.events.ackTimeout(tx);
      this.remove(tx);
    });
    this.confirmed.rotate(now);
    if (this.timersPending() === 0) {
      if (this.ticking) this.disarm();
      if (this.confirmed.size > 0) this.armRotation(now);
    }
  }

  clear(): void {
    this.byKey.clear();
    this.callIds.clear();
    for (const q of this.gQueues.values()) q.clear();
    this.hQueue.clear();
    this.confirmed.clear();
  }

  private gQueue(interval: number): DelayQueue<InviteTransaction> {
    return this.gQueues.get(interval) as DelayQueue<InviteTransaction>;
  }

  /** Ends a live transaction: out of the Map, and its pending timer entry cancelled. */
  private remove(tx: InviteTransaction): void {
    if (tx.state === TxState.Completed) {
      if (tx.reply.transport === 'udp') this.gQueue(tx.gInterval).cancel(tx.ticket);
      else this.hQueue.cancel(tx.ticket);
    }
    tx.state = TxState.Terminated;
    tx.response = RELEASED;
    tx.reply = GONE;
    if (this.byKey.get(tx.key) === tx) this.byKey.delete(tx.key);
    const n = (this.callIds.get(tx.callId) ?? 1) - 1;
    if (n <= 0) this.callIds.delete(tx.callId);
    else this.callIds.set(tx.callId, n);
  }
}
