import { endOfCall, type FailureClass } from './failure-class.js';
import type { FlashCallEvent, FlashOutcome, TrunkAttempt } from './flash-call-types.js';

/**
 * What one flash call on one trunk keeps whatever engine places it: its SIP history record, its
 * clock (INVITE, first ring, CANCEL), its timers, and its single outcome. The engines' call classes
 * drive it from their own SIP events.
 */
export class AttemptTracker {
  readonly attempt: TrunkAttempt;
  private startMs = 0;
  private ringAtMs: number | undefined;
  private cancelAtMs: number | undefined;
  private outcomeSent = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    trunk: string,
    cli: string,
    callId: string,
    private readonly onEvent: ((e: FlashCallEvent) => void) | undefined,
    private readonly onOutcome: (a: TrunkAttempt) => void,
  ) {
    this.attempt = {
      trunk, cli, callId, startedAt: Date.now(), statuses: [], postDialDelayMs: undefined, ringMs: undefined,
      finalStatus: undefined, reason: undefined, cancelSent: false, byeStatus: undefined, outcome: 'failed', failureClass: undefined,
    };
  }

  /** A 180/183 arrived. */
  get rang(): boolean {
    return this.ringAtMs !== undefined;
  }

  get outcomeKnown(): boolean {
    return this.outcomeSent;
  }

  /** The first INVITE leaves. */
  started(): void {
    this.startMs = performance.now();
  }

  /** A callId known only once sent (drachtio): the `placed` event. */
  placed(callId: string): void {
    this.attempt.callId = callId;
    this.onEvent?.({ type: 'placed', trunk: this.attempt.trunk, callId });
  }

  /** A provisional response; true when it is the first ring (180/183), which starts the minimum ring. */
  provisional(status: number): boolean {
    const statuses = this.attempt.statuses;
    if (statuses[statuses.length - 1] !== status) statuses.push(status);
    if ((status !== 180 && status !== 183) || this.ringAtMs !== undefined) return false;
    this.ringAtMs = performance.now();
    this.attempt.postDialDelayMs = Math.round(this.ringAtMs - this.startMs);
    this.onEvent?.({ type: 'ringing', trunk: this.attempt.trunk, status, postDialDelayMs: this.attempt.postDialDelayMs });
    return true;
  }

  /** Our CANCEL goes out. */
  cancelled(): void {
    this.attempt.cancelSent = true;
    this.cancelAtMs = performance.now();
  }

  /** A 2xx: answered (billed), whatever else happens; the outcome is emitted once its BYE is done. */
  answered(status: number): void {
    this.attempt.statuses.push(status);
    this.attempt.finalStatus = status;
    this.attempt.outcome = 'answered';
    this.closeRing();
  }

  /** The end of a call that got no 2xx: a final status, or none (§9.1 give-up after our CANCEL). */
  endBy(status: number | undefined): void {
    const e = endOfCall(this.rang, this.attempt.cancelSent, status);
    this.end(e.outcome, e.failureClass, status);
  }

  /** Emits the outcome once; an answered call stays answered (billed) whatever ends it. */
  end(outcome: FlashOutcome, cls: FailureClass | undefined, status: number | undefined): void {
    if (this.outcomeSent) return;
    if (this.attempt.outcome !== 'answered') {
      this.attempt.outcome = outcome;
      this.attempt.failureClass = outcome === 'failed' ? cls : undefined;
      if (status !== undefined) this.attempt.finalStatus = status;
      this.closeRing();
    }
    this.emitOutcome();
  }

  /** The BYE of an answered call ended (its status, or undefined): the outcome goes out. */
  byeDone(status: number | undefined): void {
    if (this.outcomeSent) return;
    this.attempt.byeStatus = status;
    this.emitOutcome();
  }

  after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private closeRing(): void {
    if (this.ringAtMs !== undefined) this.attempt.ringMs = Math.round((this.cancelAtMs ?? performance.now()) - this.ringAtMs);
  }

  private emitOutcome(): void {
    this.outcomeSent = true;
    this.onOutcome(this.attempt);
  }
}
