import type { EgressPolicy, EgressRefusal } from '../egress/egress-policy.js';
import { checkCallbackUrl } from '../webhooks/callback-url-rules.js';
import { validationError } from './api-request-error.js';

/** Where a session's callbackUrl may point: the webhook egress policy, compiled once at start-up. */
export interface CallbackUrlRules {
  policy: EgressPolicy;
  /** Told of each URL refused for its destination (metrics: stage "create"). */
  onRefused?: (refusal: EgressRefusal) => void;
}

/**
 * Checks a session's callbackUrl with the rules webhooks.defaultUrl follows too (see
 * checkCallbackUrl) and returns it as the WHATWG parser serializes it. Refusals are 400s naming
 * callbackUrl.
 */
export function validateCallbackUrl(text: string, rules: CallbackUrlRules): string {
  const r = checkCallbackUrl(text, rules.policy);
  if (!r.ok) {
    if (r.refusal) rules.onRefused?.(r.refusal);
    throw validationError(`body/callbackUrl ${r.problem}`, 'callbackUrl');
  }
  return r.url.href;
}
