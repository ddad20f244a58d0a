import type { CallerTrustPolicy } from './caller-trust-types.js';
import { decideCallerTrust, type TrustEvidence } from './caller-trust-policy.js';

/**
 * A verification's own caller-trust policy (the API's callerTrustPolicy). There are 16 policies, so
 * a session stores its policy as a number and the worker hands the decision script each verdict's
 * refusal under every policy: the script picks the session's own inside the same atomic step that
 * matches the call, with no round trip of its own and no copy of the policy rule in Lua.
 */

const FAILED: readonly CallerTrustPolicy['failed'][] = ['reject', 'accept'];
const MIN_ATTESTATIONS: readonly CallerTrustPolicy['minAttestation'][] = ['none', 'C', 'B', 'A'];

/**
 * Every policy, numbered from 1 in this order. The numbers are stored with sessions in Redis:
 * append, never reorder.
 */
export const SESSION_POLICIES: readonly Readonly<CallerTrustPolicy>[] = Object.freeze(
  FAILED.flatMap((failed) => MIN_ATTESTATIONS.flatMap((minAttestation) =>
    [false, true].map((requireNetworkAsserted) => Object.freeze({ failed, minAttestation, requireNetworkAsserted })))),
);

/** The separator of refusalsByPolicy's list; no refusal contains it. */
export const REFUSAL_SEPARATOR = '|';

/** The number a session stores for its policy. */
export function policyCode(p: CallerTrustPolicy): number {
  return SESSION_POLICIES.findIndex((q) => q.failed === p.failed && q.minAttestation === p.minAttestation
    && q.requireNetworkAsserted === p.requireNetworkAsserted) + 1;
}

/** A stored policy number back to the policy; undefined when absent or not one of ours. */
export function policyOfCode(code: string | undefined): CallerTrustPolicy | undefined {
  if (code === undefined || !/^[1-9][0-9]?$/.test(code)) return undefined;
  return SESSION_POLICIES[Number(code) - 1];
}

/** The evidence's refusal ('' = may verify) under each policy, in SESSION_POLICIES order, joined. */
export function refusalsByPolicy(e: TrustEvidence): string {
  return SESSION_POLICIES.map((p) => decideCallerTrust(e, p).outcome ?? '').join(REFUSAL_SEPARATOR);
}

/** The same refusal under every policy (a call over a call limit is refused whatever the policy). */
export function uniformRefusals(refusal: string): string {
  return SESSION_POLICIES.map(() => refusal).join(REFUSAL_SEPARATOR);
}

/** Strictness of each field's values: a higher rank refuses more calls. */
const RANKS: { [K in keyof CallerTrustPolicy]: (v: CallerTrustPolicy[K]) => number } = {
  failed: (v) => FAILED.length - 1 - FAILED.indexOf(v),
  minAttestation: (v) => MIN_ATTESTATIONS.indexOf(v),
  requireNetworkAsserted: (v) => (v ? 1 : 0),
};

export const POLICY_FIELDS = Object.freeze(Object.keys(RANKS) as (keyof CallerTrustPolicy)[]);

/** The fields in which `asked` lets through calls `base` refuses. */
export function looserFields(asked: CallerTrustPolicy, base: CallerTrustPolicy): (keyof CallerTrustPolicy)[] {
  return POLICY_FIELDS.filter((k) => (RANKS[k] as (v: unknown) => number)(asked[k]) < (RANKS[k] as (v: unknown) => number)(base[k]));
}
