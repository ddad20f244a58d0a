import type { CallerTrustFailure, CallerTrustReason, RfcTrustCode } from './caller-trust-types.js';

const PHRASES: Record<RfcTrustCode, string> = {
  403: 'Stale Date',
  428: 'Use Identity Header',
  436: 'Bad Identity Info',
  437: 'Unsupported Credential',
  438: 'Invalid Identity Header',
};

/**
 * Each reason's RFC 8224 code, in one table. 436: the credential cannot be had (x5u unusable or
 * unreachable); 437: it was had but cannot be trusted or used; 438: the header or PASSporT is wrong,
 * or does not match this call; 403 Stale Date: outside the freshness window, or already used on
 * another call; 428: the policy needs STIR/SHAKEN evidence the call does not carry. The carrier's
 * own verstat verdict, a too-low level and our own failures have no RFC 8224 code.
 */
export const REASON_CODES: Readonly<Record<CallerTrustReason, RfcTrustCode | null>> = {
  verstat_failed: null,
  identity_malformed: 438,
  identity_compact_form: 438,
  passport_malformed: 438,
  alg_unsupported: 437,
  ppt_unsupported: 438,
  claims_invalid: 438,
  orig_mismatch: 438,
  dest_mismatch: 438,
  stale: 403,
  future: 403,
  x5u_invalid: 436,
  info_mismatch: 436,
  certificate_unavailable: 436,
  certificate_invalid: 437,
  certificate_untrusted: 437,
  certificate_expired: 437,
  certificate_revoked: 437,
  tn_auth_list_missing: 437,
  tn_not_authorized: 437,
  signature_invalid: 438,
  replayed: 403,
  replay_check_unavailable: null,
  verifier_error: null,
  attestation_missing: 428,
  attestation_low: null,
  not_network_asserted: null,
};

export const ALL_REASONS = Object.keys(REASON_CODES) as CallerTrustReason[];

export function trustFailure(reason: CallerTrustReason, detail: string, transient = false): CallerTrustFailure {
  const code = REASON_CODES[reason];
  return { reason, code, text: code === null ? null : PHRASES[code], detail, transient };
}
