import type { CallEvent, CliOrigin } from '../edge/call-event.js';
import type { Attestation, CallerTrustOutcome, CallerTrustPolicy, IdentityStatus, TrustResult } from './caller-trust-types.js';
import type { CallerTrustVerdict } from './stir-shaken-types.js';
import type { CallLimitOutcome } from '../limits/call-limit-defaults.js';

/** Why a call that matched a pending session did not verify it: the caller-trust policy or a call limit. */
export type CallRefusal = CallerTrustOutcome | CallLimitOutcome;
import { cliNetworkAsserted, decideCallerTrust, DEFAULT_CALLER_TRUST_POLICY, verstatEvidence, type TrustEvidence } from './caller-trust-policy.js';
import { CALLER_TRUST_OUTCOMES, type CliSource } from './caller-trust-types.js';
import { refusalsByPolicy } from './session-trust-policy.js';
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
  /** The header the CLI was read from (absent on sessions verified by an older version). */
  cliSource?: CliSource;
  /** The CLI was asserted by the network: from P-Asserted-Identity or Remote-Party-ID, or vouched for by a valid PASSporT. */
  networkAsserted?: boolean;
}

/** What the worker hands the decision script for one call. */
export interface CallTrust {
  /** Why the call may not verify a session ('' = it may) under the deployment's `trust` policy, or a call limit. */
  refusal: CallRefusal | '';
  /**
   * The refusal under each session policy (refusalsByPolicy), for a session with its own
   * callerTrustPolicy; '' = every session follows `refusal`.
   */
  byPolicy: string;
  /** CallerTrustSummary as JSON, stored on the session the call verifies. */
  verdictJson: string;
}

/** The evidence's decision under the deployment's policy and under every session policy. */
function callTrust(e: TrustEvidence, summary: CallerTrustSummary, policy: CallerTrustPolicy): CallTrust {
  return { refusal: decideCallerTrust(e, policy).outcome ?? '', byPolicy: refusalsByPolicy(e), verdictJson: JSON.stringify(summary) };
}

/** The edge's verdict; an event from an older edge has none, so its verstat is classified here. */
export function eventTrust(event: Pick<CallEvent, 'trust' | 'verstat'>): VerstatTrust {
  if (isVerstatTrust(event.trust)) return event.trust;
  return classifyVerstat(typeof event.verstat === 'string' ? event.verstat : null);
}

/** The header a CLI came from, as callerTrust names it; null for a withheld one (which never matches a session). */
function cliSourceOf(origin: CliOrigin | undefined): CliSource | null {
  return origin === 'pai' || origin === 'rpid' || origin === 'from' ? origin : null;
}

function decide(t: VerstatTrust, origin: CliSource | null, policy: CallerTrustPolicy): CallTrust {
  const evidence = verstatEvidence(t, cliNetworkAsserted(origin ?? undefined));
  const summary: CallerTrustSummary = { result: evidence.result, verstat: t, attest: evidence.attest };
  if (origin !== null) Object.assign(summary, { cliSource: origin, networkAsserted: evidence.networkAsserted });
  return callTrust(evidence, summary, policy);
}

const ORIGINS: readonly (CliSource | null)[] = ['pai', 'rpid', 'from', null];

/**
 * The policy's decision for a call, from the edge's verdict and the CLI's header alone. There are
 * 8 × 4 of those, so the decisions are made once, at construction, and each call costs a lookup.
 */
export class CallerTrustDecider {
  private readonly table: ReadonlyMap<VerstatTrust, ReadonlyMap<CliSource | null, CallTrust>>;

  constructor(readonly policy: CallerTrustPolicy = DEFAULT_CALLER_TRUST_POLICY) {
    this.table = new Map(VERSTAT_TRUSTS.map((t) => [t, new Map(ORIGINS.map((o) => [o, decide(t, o, policy)]))]));
  }

  decide(event: Pick<CallEvent, 'trust' | 'verstat'> & Partial<Pick<CallEvent, 'cliOrigin'>>): CallTrust {
    return this.table.get(eventTrust(event))?.get(cliSourceOf(event.cliOrigin)) as CallTrust;
  }
}

const OUTCOMES: ReadonlySet<string> = new Set<string>(CALLER_TRUST_OUTCOMES);

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
  if (v.cliSource === 'pai' || v.cliSource === 'rpid' || v.cliSource === 'from') out.cliSource = v.cliSource;
  if (typeof v.networkAsserted === 'boolean') out.networkAsserted = v.networkAsserted;
  return out;
}

/**
 * The decision for a call whose Identity header the verifier judged: its verdict replaces the
 * verstat-only one. `policy` is the deployment's (the verifier's own decision counts in its metrics).
 */
export function verdictTrust(v: CallerTrustVerdict, origin: CliOrigin | undefined, policy: CallerTrustPolicy): CallTrust {
  const summary: CallerTrustSummary = {
    result: v.result, verstat: v.verstat, attest: v.attest, identity: v.identity, spc: v.certificate?.spc ?? null,
  };
  const source = cliSourceOf(origin);
  if (source !== null) summary.cliSource = source;
  summary.networkAsserted = v.networkAsserted;
  const evidence: TrustEvidence = { result: v.result, attest: v.attest, failure: v.result === 'fail' ? v.failure : null, networkAsserted: v.networkAsserted };
  return callTrust(evidence, summary, policy);
}
