import type {
  Attestation, CallerTrustFailure, CallerTrustOutcome, CallerTrustPolicy, TrustResult,
} from './caller-trust-types.js';
import { trustFailure } from './trust-reasons.js';
import { verstatAttestation, type VerstatTrust } from './verstat.js';

/** Safe by default: a caller ID that failed validation never verifies; no attestation is required. */
export const DEFAULT_CALLER_TRUST_POLICY: Readonly<CallerTrustPolicy> = Object.freeze({
  failed: 'reject',
  minAttestation: 'none',
});

const RANK: Record<Attestation, number> = { A: 3, B: 2, C: 1 };

/** The evidence about one call, before any policy is applied. */
export interface TrustEvidence {
  result: TrustResult;
  /** Why result is 'fail'. */
  failure: CallerTrustFailure | null;
  /** Known attestation of a 'pass'; null when not conveyed (a plain TN-Validation-Passed). */
  attest: Attestation | null;
}

export interface TrustDecision {
  verifies: boolean;
  outcome: CallerTrustOutcome | null;
  failure: CallerTrustFailure | null;
}

const VERSTAT_FAILED = Object.freeze(trustFailure('verstat_failed', 'the carrier reports TN-Validation-Failed'));

/** What the carrier's verstat (as the edge read it) proves about the caller ID. */
export function verstatEvidence(t: VerstatTrust): TrustEvidence {
  if (t === 'failed') return { result: 'fail', failure: VERSTAT_FAILED, attest: null };
  if (t === 'passed' || t === 'passed-A' || t === 'passed-B' || t === 'passed-C') {
    return { result: 'pass', failure: null, attest: verstatAttestation(t) };
  }
  return { result: 'none', failure: null, attest: null };
}

/**
 * Applies a policy to the evidence. A 'pass' without a conveyed level meets a minimum of C (some
 * level was validated) but not B or A.
 */
export function decideCallerTrust(e: TrustEvidence, policy: CallerTrustPolicy): TrustDecision {
  if (e.result === 'fail' && policy.failed === 'reject') return { verifies: false, outcome: 'caller_id_failed', failure: e.failure };
  const min = policy.minAttestation;
  if (min !== 'none') {
    if (e.result !== 'pass') {
      return {
        verifies: false,
        outcome: 'caller_id_attestation_low',
        failure: e.failure ?? trustFailure('attestation_missing', `attestation ${min} or better is required and the call carries no validated caller ID`),
      };
    }
    const rank = e.attest === null ? RANK.C : RANK[e.attest];
    if (rank < RANK[min]) {
      const got = e.attest ?? 'not conveyed';
      return { verifies: false, outcome: 'caller_id_attestation_low', failure: trustFailure('attestation_low', `attestation ${got} is below the required ${min}`) };
    }
  }
  return { verifies: true, outcome: null, failure: e.failure };
}
