import type { SipTransport } from '../../config/config-types.js';
import type { DropReason } from './drop-reasons.js';

/** The source of a SIP request as the transport saw it. */
export interface SourceAddress {
  address: string;
  port: number;
  transport: SipTransport;
}

/**
 * A new INVITE handed from an engine to the edge, already past protocol checks. Header accessors are
 * lazy so the edge pays only for what it reads. Header names are the full lowercase forms.
 */
export interface InboundInvite {
  readonly source: SourceAddress;
  readonly callId: string;
  readonly requestUri: string;
  /** All values of a header, in order; a header line with comma-separated values gives several. */
  headerValues(name: string): readonly string[];
  /** First value of a header, or undefined. */
  header(name: string): string | undefined;
  /** Epoch ms with sub-ms fraction. */
  readonly receivedAt: number;
}

/** What the edge wants done with a request before any SIP response is sent. */
export type AdmitDecision =
  | { kind: 'accept'; trunk: string; rejectCode: number }
  | { kind: 'forbid' }
  | { kind: 'drop'; reason: DropReason };

/**
 * Edge logic behind every engine. `admit` runs on the hot path for every request before the engine
 * answers it and must be cheap (ACL, scanner match). `onInviteAnswered` runs once per new INVITE after
 * its final response was sent.
 */
export interface EdgeHandler {
  admit(source: SourceAddress, method: string, userAgent: string | undefined): AdmitDecision;
  onInviteAnswered(invite: InboundInvite, trunk: string, code: number): void;
}

/** A SIP engine: native UDP/TCP, or drachtio-srf. */
export interface SipEngine {
  readonly name: 'native' | 'drachtio';
  start(handler: EdgeHandler): Promise<void>;
  /** Stop taking new requests; finish retransmission duties within the grace time. */
  stop(graceMs: number): Promise<void>;
  /** True while the engine can answer SIP (sockets bound / drachtio connected). */
  readonly ready: boolean;
  /** Server transactions currently held in memory. */
  transactionCount(): number;
}
