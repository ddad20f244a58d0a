import type { CreationCheck } from '../api/creation-checks.js';
import { ErrorCodes } from '../errors/codes.js';
import type { NumberClassifier } from './number-classifier.js';
import type { NumberMetrics } from './number-metrics.js';
import type { NumberPolicy } from './number-policy.js';

/**
 * The number policy as a creation check: classify (full metadata, in memory), evaluate, and either
 * refuse with a 422 naming the rule, country and type, or note phoneNumberInfo for the session.
 * No I/O: a refusal costs a few microseconds and leaves nothing behind but a metric.
 */
export function numberPolicyCheck(classifier: NumberClassifier, policy: NumberPolicy, metrics: NumberMetrics): CreationCheck {
  return {
    name: 'number-policy',
    async check(req, notes) {
      const info = classifier.classify(req.phoneNumber);
      const verdict = policy.evaluate(req.phoneNumber, info, req.method, req.principal);
      if (!verdict.allowed) {
        metrics.refusals.inc({ method: req.method, country: info.country, type: info.type, rule: verdict.rule });
        return {
          status: 422,
          code: ErrorCodes.NUMBER_REFUSED,
          message: verdict.message,
          details: {
            rule: verdict.rule,
            method: req.method,
            country: info.country,
            type: info.type,
            ...(verdict.prefix === undefined ? {} : { prefix: verdict.prefix }),
            ...(verdict.reason === undefined ? {} : { reason: verdict.reason }),
          },
        };
      }
      notes.phoneNumberInfo = verdict.flags.length > 0 ? { ...info, flags: verdict.flags } : info;
      return undefined;
    },
    created(req, notes) {
      const info = notes.phoneNumberInfo;
      if (info) metrics.creations.inc({ method: req.method, country: info.country, type: info.type });
    },
  };
}
