import type { CallerTrustFailure, CallerTrustReason, RfcTrustCode } from './caller-trust-types.js';

const PHRASES: Record<RfcTrustCode, string> = {
  403: 'Stale Date',
  428: 'Use Identity Header',
  436: 'Bad Identity Info',
  437: 'Unsupported Credential',
  438: 'Invalid Identity Header',
};

/**
 * Each reason's RFC 8224 code, in one table. 428: the policy needs STIR/SHAKEN evidence the call
 * does not carry; the carrier's own verstat verdict and a too-low level have no RFC 8224 code.
 */
export const REASON_CODES: Readonly<Record<CallerTrustReason, RfcTrustCode | null>> = {
  verstat_failed: null,
  attestation_missing: 428,
  attestation_low: null,
};

export function trustFailure(reason: CallerTrustReason, detail: string): CallerTrustFailure {
  const code = REASON_CODES[reason];
  return { reason, code, text: code === null ? null : PHRASES[code], detail };
}
