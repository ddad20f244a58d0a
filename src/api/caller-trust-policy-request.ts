import type { TrustConfig } from '../config/config-types.js';
import { ErrorCodes } from '../errors/codes.js';
import type { CallerTrustPolicy } from '../trust/caller-trust-types.js';
import { looserFields } from '../trust/session-trust-policy.js';
import { ApiRequestError } from './api-request-error.js';

/** The body's callerTrustPolicy: any of the policy's fields; the others come from the `trust` configuration. */
export type CallerTrustPolicyRequest = Partial<CallerTrustPolicy>;

/**
 * The policy a new session keeps: the app's fields over the deployment's `trust` policy. With
 * trust.perVerification 'tighten' (the default) an app may only ask for a stricter policy: a field
 * that would let through calls the deployment refuses is a 422 naming it, and nothing is stored.
 * Undefined when the body has none, so the session follows the deployment's policy.
 */
export function resolveCallerTrustPolicy(asked: CallerTrustPolicyRequest | undefined, trust: TrustConfig): CallerTrustPolicy | undefined {
  if (asked === undefined) return undefined;
  const base: CallerTrustPolicy = { failed: trust.failed, minAttestation: trust.minAttestation, requireNetworkAsserted: trust.requireNetworkAsserted };
  const policy: CallerTrustPolicy = {
    failed: asked.failed ?? base.failed,
    minAttestation: asked.minAttestation ?? base.minAttestation,
    requireNetworkAsserted: asked.requireNetworkAsserted ?? base.requireNetworkAsserted,
  };
  const looser = trust.perVerification === 'tighten' ? looserFields(policy, base)[0] : undefined;
  if (looser !== undefined) {
    throw new ApiRequestError(
      ErrorCodes.CALLER_TRUST_POLICY_REFUSED, 422,
      `callerTrustPolicy.${looser} ${JSON.stringify(policy[looser])} is looser than this deployment's trust.${looser} ${JSON.stringify(base[looser])}, `
        + 'and trust.perVerification is "tighten": a verification may only ask for a stricter caller-trust policy',
      `callerTrustPolicy.${looser}`,
    );
  }
  return policy;
}

/** Whether two sessions' policies are the same (an idempotent replay must ask for the one it got). */
export function samePolicy(a: CallerTrustPolicy | undefined, b: CallerTrustPolicy | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.failed === b.failed && a.minAttestation === b.minAttestation && a.requireNetworkAsserted === b.requireNetworkAsserted;
}
