import type { TrustConfig } from '../config/config-types.js';

/**
 * The caller-trust module's shapes (STIR/SHAKEN on the terminating side, issue #10). The edge reads
 * the carrier's verstat into a VerstatTrust (verstat.ts); the worker turns it into evidence and applies
 * the policy (caller-trust-policy.ts) to a call that matched a pending session.
 */

/** SHAKEN attestation levels (RFC 8588): A full, B partial, C gateway. */
export type Attestation = 'A' | 'B' | 'C';
export type MinAttestation = TrustConfig['minAttestation'];

/**
 * What a call's policy asks: the policy part of the `trust` configuration, or a verification's own
 * callerTrustPolicy (see session-trust-policy.ts).
 */
export type CallerTrustPolicy = Pick<TrustConfig, 'failed' | 'minAttestation' | 'requireNetworkAsserted'>;

/**
 * The Identity header's state. unchecked: present but not verified (no trust anchors configured, so
 * a signature would prove nothing); absent: no SHAKEN Identity header.
 */
export type IdentityStatus = 'valid' | 'invalid' | 'unchecked' | 'absent';

/** The header a caller ID was read from (CliOrigin less 'withheld'). */
export type CliSource = 'pai' | 'rpid' | 'from';

/** pass: validated (verstat Passed); fail: validation failed; none: no evidence either way. */
export type TrustResult = 'pass' | 'fail' | 'none';

/**
 * Why a matching call does not verify, as its outcome's `detail` names it: the caller ID failed
 * validation, the policy's minimum attestation is not met (none conveyed, or too low), or the policy
 * wants a network-asserted caller ID and the call's came from From alone.
 */
export type CallerTrustOutcome = 'caller_id_failed' | 'caller_id_attestation_low' | 'caller_id_not_asserted';

/** Every CallerTrustOutcome, for schemas and catalogues. */
export const CALLER_TRUST_OUTCOMES: readonly CallerTrustOutcome[] = Object.freeze(['caller_id_failed', 'caller_id_attestation_low', 'caller_id_not_asserted']);

/** RFC 8224 response codes: 428 Use Identity Header, 436 Bad Identity Info, 437 Unsupported Credential, 438 Invalid Identity Header, 403 Stale Date. */
export type RfcTrustCode = 403 | 428 | 436 | 437 | 438;

export type CallerTrustReason =
  | 'verstat_failed'
  | 'identity_malformed'
  | 'identity_compact_form'
  | 'passport_malformed'
  | 'alg_unsupported'
  | 'ppt_unsupported'
  | 'claims_invalid'
  | 'orig_mismatch'
  | 'dest_mismatch'
  | 'stale'
  | 'future'
  | 'x5u_invalid'
  | 'info_mismatch'
  | 'certificate_unavailable'
  | 'certificate_invalid'
  | 'certificate_untrusted'
  | 'certificate_expired'
  | 'certificate_revoked'
  | 'tn_auth_list_missing'
  | 'tn_not_authorized'
  | 'signature_invalid'
  | 'replayed'
  | 'replay_check_unavailable'
  | 'verifier_error'
  | 'attestation_missing'
  | 'attestation_low'
  | 'not_network_asserted';

export interface CallerTrustFailure {
  reason: CallerTrustReason;
  /** The RFC 8224 code this reason maps to; null for the carrier's own verstat and policy-only reasons. */
  code: RfcTrustCode | null;
  /** The code's reason phrase ("Use Identity Header"), or null. */
  text: string | null;
  /** Short human explanation; never holds a phone number. */
  detail: string;
  /** True when the cause may clear by itself (x5u unreachable, replay store down): the call job may be retried. */
  transient: boolean;
}
