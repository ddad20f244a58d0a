import type { TxFingerprints } from './confirmed-transactions.js';
import type { ReplyPath } from '../transports/index.js';

export const TxState = {
  /** Final response sent, waiting for ACK (timers G and H run). */
  Completed: 0,
  /** ACK received; absorbing retransmissions until timer I. */
  Confirmed: 1,
  Terminated: 2,
} as const;
export type TxState = (typeof TxState)[keyof typeof TxState];

/** A UAS INVITE server transaction that was answered with a non-2xx final response (RFC 3261 §17.2.1). */
export interface InviteTransaction extends TxFingerprints {
  key: string;
  callId: string;
  trunk: string;
  state: TxState;
  /** The final response as latin1 text (each character one byte), resent for retransmitted INVITEs and by timer G. */
  response: string;
  code: number;
  reply: ReplyPath;
  /** Current timer G interval (ms), doubling up to T2. */
  gInterval: number;
  /** Ticket of the pending timer G (UDP) or H (TCP) entry, to cancel it when the transaction ends. */
  ticket: number;
  /** performance.now() when the final response was first sent (timer H counts from here). */
  sentAt: number;
}
