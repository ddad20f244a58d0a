import type { CallEvent } from '../edge/call-event.js';
import type { Attestation, CallerTrustOutcome, CallerTrustPolicy, IdentityStatus, TrustResult } from './caller-trust-types.js';
import type { CallerTrustVerdict } from './stir-shaken-types.js';
import type { CallLimitOutcome } from '../limits/call-limit-defaults.js';

/** Why a call that matched a pending session did not verify it: the caller-trust policy or a call limit. */
export type CallRefusal = CallerTrustOutcome | CallLimitOutcome;
import { decideCallerTrust, DEFAULT_CALLER_TRUST_POLICY, verstatEvidence } from './caller-trust-policy.js';
import { classifyVerstat, isVerstatTrust, VERSTAT_TRUSTS, type VerstatTrust } from './verstat.js';

/** The caller-trust verdict a verified session keeps and shows as `callerTrust` (GET, webhooks). */
export interface CallerTrustSummary {
  result: TrustResult;
  /** The edge's reading of the carrier's verstat. */
  verstat: VerstatTrust;
  /** Attestation of a valid PASSporT, else the one conveyed by the verstat; null when none. */
  attest: Attestation | null;
  /** The Identity header's state, when the Identity verifier looked at the call. */
  identity?: IdentityStatus;
  /** Service Provider Code of a valid PASSporT's certificate (null for a TN-list certificate). */
  spc?: string | null;
}

/** What the worker hands the decision script for one call. */
export interface CallTrust {
  /** Why the call may not verify a session ('' = it may): the trust policy, or a call limit. */
  refusal: CallRefusal | '';
  /** CallerTrustSummary as JSON, stored on the session the call verifies. */
  verdictJson: string;
}

/** The edge's verdict; an event from an older edge has none, so its verstat is classified here. */
export function eventTrust(event: Pick<CallEvent, 'trust' | 'verstat'>): VerstatTrust {
  if (isVerstatTrust(event.trust)) return event.trust;
  return classifyVerstat(typeof event.verstat === 'string' ? event.verstat : null);
}

function decide(t: VerstatTrust, policy: CallerTrustPolicy): CallTrust {
  const evidence = verstatEvidence(t);
  const summary: CallerTrustSummary = { result: evidence.result, verstat: t, attest: evidence.attest };
  return { refusal: decideCallerTrust(evidence, policy).outcome ?? '', verdictJson: JSON.stringify(summary) };
}

/**
 * The policy's decision for a call, from the edge's verdict alone. There are eight verdicts, so the
 * decisions are made once, at construction, and each call costs a table lookup.
 */
export class CallerTrustDecider {
  private readonly table: ReadonlyMap<VerstatTrust, CallTrust>;

  constructor(readonly policy: CallerTrustPolicy = DEFAULT_CALLER_TRUST_POLICY) {
    this.table = new Map(VERSTAT_TRUSTS.map((t) => [t, decide(t, policy)]));
  }

  decide(event: Pick<CallEvent, 'trust' | 'verstat'>): CallTrust {
    return this.table.get(eventTrust(event)) as CallTrust;
  }
}

const OUTCOMES: ReadonlySet<string> = new Set<CallerTrustOutcome>(['caller_id_failed', 'caller_id_attestation_low']);

export function isCallerTrustOutcome(value: unknown): value is CallerTrustOutcome {
  return typeof value === 'string' && OUTCOMES.has(value);
}

/** A stored CallerTrustSummary; undefined when absent or not one (a session written by another version). */
export function parseCallerTrust(json: string | undefined): CallerTrustSummary | undefined {
  if (json === undefined || json === '') return undefined;
  let v: Partial<CallerTrustSummary>;
  try {
    v = JSON.parse(json) as Partial<CallerTrustSummary>;
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== 'object' || !isVerstatTrust(v.verstat)) return undefined;
  const result: TrustResult = v.result === 'pass' || v.result === 'fail' ? v.result : 'none';
  const attest = v.attest === 'A' || v.attest === 'B' || v.attest === 'C' ? v.attest : null;
  const out: CallerTrustSummary = { result, verstat: v.verstat, attest };
  if (v.identity === 'valid' || v.identity === 'invalid' || v.identity === 'unchecked' || v.identity === 'absent') out.identity = v.identity;
  if (v.identity !== undefined && (typeof v.spc === 'string' || v.spc === null)) out.spc = v.spc;
  return out;
}

/** The decision for a call whose Identity header the verifier judged: its verdict replaces the verstat-only one. */
export function verdictTrust(v: CallerTrustVerdict): CallTrust {
  const summary: CallerTrustSummary = {
    result: v.result, verstat: v.verstat, attest: v.attest, identity: v.identity, spc: v.certificate?.spc ?? null,
  };
  return { refusal: v.outcome ?? '', verdictJson: JSON.stringify(summary) };
}
