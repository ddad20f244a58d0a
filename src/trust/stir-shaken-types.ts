import type { CallEvent } from '../edge/call-event.js';
import type { CallerTrustSummary } from './call-trust.js';
import type { CallerTrustFailure, CallerTrustOutcome, CallerTrustPolicy, IdentityStatus } from './caller-trust-types.js';

/**
 * The STIR/SHAKEN verifier's shapes (RFC 8224/8225/8588). The verdict extends the summary a verified
 * session keeps (call-trust.ts) with what the Identity header proved.
 */

/** What the verifier reads from a CallEvent, plus the candidate session's policy. */
export type StirShakenInput = Pick<CallEvent, 'callId' | 'cli' | 'did' | 'verstat' | 'trust' | 'identity' | 'receivedAt'> & Partial<Pick<CallEvent, 'cliOrigin'>> & {
  /** The effective policy of the candidate session; the verifier's global policy when absent. */
  policy?: CallerTrustPolicy;
};


/** The signing certificate, as the verdict reports it (only for a valid PASSporT). */
export interface TrustCertificate {
  /** Service Provider Code from the TNAuthList (OID 1.3.6.1.5.5.7.1.26); null for a TN-list (delegate) certificate. */
  spc: string | null;
  subject: string;
  issuer: string;
  /** ISO 8601. */
  notAfter: string;
}

export interface CallerTrustVerdict extends CallerTrustSummary {
  v: 1;
  identity: IdentityStatus;
  /** The CLI came from P-Asserted-Identity or Remote-Party-ID (input.cliOrigin), or the PASSporT is valid. */
  networkAsserted: boolean;
  /** Whether the policy lets this call verify a session. */
  verifies: boolean;
  /** Set when `verifies` is false. */
  outcome: CallerTrustOutcome | null;
  /** The valid PASSporT's origid (RFC 8588), for carrier traceback. */
  origid: string | null;
  certificate: TrustCertificate | null;
  /** Why the result is 'fail', or else why the policy refused the call; null when it verifies cleanly. */
  failure: CallerTrustFailure | null;
}

/** The seam a worker would use. verify() never rejects: bad input becomes a counted verdict. */
export interface CallerTrustVerifier {
  verify(input: StirShakenInput): Promise<CallerTrustVerdict>;
}
