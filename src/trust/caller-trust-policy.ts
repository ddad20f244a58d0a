import type {
  Attestation, CallerTrustFailure, CallerTrustOutcome, CallerTrustPolicy, TrustResult,
} from './caller-trust-types.js';
import { trustFailure } from './trust-reasons.js';
import { verstatAttestation, type VerstatTrust } from './verstat.js';
import type { CliOrigin } from '../edge/call-event.js';

/** Safe by default: a caller ID that failed validation never verifies; no attestation is required. */
export const DEFAULT_CALLER_TRUST_POLICY: Readonly<CallerTrustPolicy> = Object.freeze({
  failed: 'reject',
  minAttestation: 'none',
  requireNetworkAsserted: false,
});

const RANK: Record<Attestation, number> = { A: 3, B: 2, C: 1 };

/** The evidence about one call, before any policy is applied. */
export interface TrustEvidence {
  result: TrustResult;
  /** Why result is 'fail'. */
  failure: CallerTrustFailure | null;
  /** Known attestation of a 'pass'; null when not conveyed (a plain TN-Validation-Passed). */
  attest: Attestation | null;
  /** The CLI came from P-Asserted-Identity or Remote-Party-ID, or a valid PASSporT vouches for it (see networkAsserted). */
  networkAsserted: boolean;
}

export interface TrustDecision {
  verifies: boolean;
  outcome: CallerTrustOutcome | null;
  failure: CallerTrustFailure | null;
}

const VERSTAT_FAILED = Object.freeze(trustFailure('verstat_failed', 'the carrier reports TN-Validation-Failed'));

const NOT_ASSERTED = Object.freeze(trustFailure('not_network_asserted', 'a network-asserted caller ID is required and the CLI came from From alone'));

/**
 * Whether the trunk asserted the CLI: it was read from P-Asserted-Identity or Remote-Party-ID, the
 * headers a carrier sets for its network, not From, which the caller writes.
 */
export function cliNetworkAsserted(origin: CliOrigin | undefined): boolean {
  return origin === 'pai' || origin === 'rpid';
}

/** What the carrier's verstat (as the edge read it) proves about the caller ID. */
export function verstatEvidence(t: VerstatTrust, networkAsserted: boolean): TrustEvidence {
  if (t === 'failed') return { result: 'fail', failure: VERSTAT_FAILED, attest: null, networkAsserted };
  if (t === 'passed' || t === 'passed-A' || t === 'passed-B' || t === 'passed-C') {
    return { result: 'pass', failure: null, attest: verstatAttestation(t), networkAsserted };
  }
  return { result: 'none', failure: null, attest: null, networkAsserted };
}

/**
 * Applies a policy to the evidence. A 'pass' without a conveyed level meets a minimum of C (some
 * level was validated) but not B or A.
 */
export function decideCallerTrust(e: TrustEvidence, policy: CallerTrustPolicy): TrustDecision {
  if (e.result === 'fail' && policy.failed === 'reject') return { verifies: false, outcome: 'caller_id_failed', failure: e.failure };
  if (policy.requireNetworkAsserted && !e.networkAsserted) return { verifies: false, outcome: 'caller_id_not_asserted', failure: e.failure ?? NOT_ASSERTED };
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
