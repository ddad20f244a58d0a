import type { Attestation } from './caller-trust-types.js';

/**
 * The edge's caller-trust reading of one call, from its headers alone (no crypto, no Redis): what the
 * carrier's verification service wrote in `verstat` (ATIS-1000074, 3GPP TS 24.229). It travels in the
 * CallEvent as `trust`, and the worker's decision consumes it.
 * - passed: TN-Validation-Passed, attestation not conveyed
 * - passed-A / passed-B / passed-C: the carrier variants TN-Validation-Passed-A/-B/-C
 * - failed: TN-Validation-Failed
 * - no-validation: No-TN-Validation (the carrier did not or could not validate)
 * - absent: no verstat on the call
 * - unknown: a verstat value that is none of the above (counts as no evidence)
 */
export type VerstatTrust =
  | 'passed' | 'passed-A' | 'passed-B' | 'passed-C' | 'failed' | 'no-validation' | 'absent' | 'unknown';

export const VERSTAT_TRUSTS: readonly VerstatTrust[] = [
  'passed', 'passed-A', 'passed-B', 'passed-C', 'failed', 'no-validation', 'absent', 'unknown',
];

const PASSED = 'tn-validation-passed';
// The spellings the edge's CLI extraction already canonicalises, answered without a lower-case copy.
const EXACT: ReadonlyMap<string, VerstatTrust> = new Map<string, VerstatTrust>([
  ['TN-Validation-Passed', 'passed'],
  ['TN-Validation-Failed', 'failed'],
  ['No-TN-Validation', 'no-validation'],
  ['TN-Validation-Passed-A', 'passed-A'],
  ['TN-Validation-Passed-B', 'passed-B'],
  ['TN-Validation-Passed-C', 'passed-C'],
]);

/** Classifies a verstat value in any letter case; null or '' is 'absent'. */
export function classifyVerstat(value: string | null | undefined): VerstatTrust {
  if (value === null || value === undefined || value === '') return 'absent';
  const exact = EXACT.get(value);
  if (exact !== undefined) return exact;
  const v = value.toLowerCase();
  if (v === PASSED) return 'passed';
  if (v.length === PASSED.length + 2 && v.startsWith(PASSED) && v[PASSED.length] === '-') {
    const level = v[PASSED.length + 1];
    if (level === 'a') return 'passed-A';
    if (level === 'b') return 'passed-B';
    if (level === 'c') return 'passed-C';
  }
  if (v === 'tn-validation-failed') return 'failed';
  if (v === 'no-tn-validation') return 'no-validation';
  return 'unknown';
}

/** True for a value a CallEvent may carry as `trust` (events from other versions are checked). */
export function isVerstatTrust(value: unknown): value is VerstatTrust {
  return typeof value === 'string' && (VERSTAT_TRUSTS as readonly string[]).includes(value);
}

/** The attestation a Passed reading conveys; null when none is conveyed or it is not a Passed. */
export function verstatAttestation(t: VerstatTrust): Attestation | null {
  return t === 'passed-A' ? 'A' : t === 'passed-B' ? 'B' : t === 'passed-C' ? 'C' : null;
}
