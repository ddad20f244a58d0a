import type { SipTransport } from '../config/config-types.js';
import type { BlocklistKind } from '../abuse/blocklist-entry.js';
import type { VerstatTrust } from '../trust/verstat.js';

/** Where the CLI was read from; "withheld" when the caller hid it (Privacy: id, anonymous URI). */
export type CliOrigin = 'pai' | 'rpid' | 'from' | 'withheld';

export type Verstat = 'TN-Validation-Passed' | 'TN-Validation-Failed' | 'No-TN-Validation' | string;

/**
 * One INVITE as the rest of the system sees it. Produced once per call (never per retransmission)
 * after the reject is on the wire. Serializable as JSON.
 */
export interface CallEvent {
  /** Schema version of this object, bumped on incompatible change. */
  v: 1;
  trunk: string;
  source: { address: string; port: number };
  transport: SipTransport;
  callId: string;
  /** E.164 ("+12025550123") or null when withheld or not a phone number. */
  cli: string | null;
  cliOrigin: CliOrigin;
  /** The CLI as found in the header (user part), for audit; null when withheld. */
  cliRaw: string | null;
  /** Called DID in E.164, or null when the Request-URI/To holds no phone number. */
  did: string | null;
  didRaw: string | null;
  verstat: Verstat | null;
  /**
   * The edge's caller-trust reading of `verstat` (see src/trust/verstat.ts): passed, passed-A/-B/-C,
   * failed, no-validation, absent, unknown. The worker applies the `trust` policy to it. This edge
   * always sets it; an event from an edge that predates it lacks it, and the worker then classifies
   * `verstat` itself.
   */
  trust?: VerstatTrust;
  /** Raw STIR/SHAKEN Identity header value(s), if present. */
  identity: string | null;
  userAgent: string | null;
  /** SIP code we rejected the call with. */
  rejectCode: number;
  /** Receive time: Unix epoch milliseconds with sub-millisecond fraction. */
  receivedAt: number;
  /**
   * Set when the caller is on the blocklist (src/abuse): the entry that matched. Such a call was
   * rejected on the wire like any other and never verifies: the worker's outcome is `blocked`.
   */
  blocked?: CallBlock;
}

/** The blocklist entry a call matched. */
export interface CallBlock {
  kind: BlocklistKind;
  /** The entry's value: the number, the prefix or the caller name. */
  value: string;
  reason: string;
}
