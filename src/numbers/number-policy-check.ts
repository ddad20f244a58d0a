import type { CreationCheck, CreationRefusal, CreationRequest } from '../api/creation-checks.js';
import type { CarrierLookupOnError } from '../config/config-types.js';
import { ErrorCodes } from '../errors/codes.js';
import type { CarrierLookup } from './carrier-lookup.js';
import type { NumberClassifier } from './number-classifier.js';
import type { NumberMetrics } from './number-metrics.js';
import type { NumberPolicy, PolicyVerdict } from './number-policy.js';
import type { PhoneNumberInfo } from './number-types.js';

/** The carrier lookup as the check uses it, with what to do when it fails. */
export interface CarrierLookupUse {
  lookup: CarrierLookup;
  onError: CarrierLookupOnError;
}

function refusal(req: CreationRequest, info: PhoneNumberInfo, verdict: Extract<PolicyVerdict, { allowed: false }>, metrics: NumberMetrics): CreationRefusal {
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
      // Only when the carrier's type decided: the range verdict is the one the docs' tables give.
      ...(info.source === 'carrier' ? { source: info.source } : {}),
    },
  };
}

/**
 * The number policy as a creation check: classify (full metadata, in memory), evaluate, and either
 * refuse with a 422 naming the rule, country and type, or note phoneNumberInfo for the session.
 * With a carrier lookup, a number the ranges accept is asked about and judged again by the type the
 * carrier gives: the lookup can narrow a verdict (a ported or MVNO VoIP number), never widen one, so
 * a number the ranges refuse costs no lookup and no lookup answer can open a premium-rate range.
 */
export function numberPolicyCheck(classifier: NumberClassifier, policy: NumberPolicy, metrics: NumberMetrics, carrier?: CarrierLookupUse): CreationCheck {
  return {
    name: 'number-policy',
    async check(req, notes) {
      let info = classifier.classify(req.phoneNumber);
      let verdict = policy.evaluate(req.phoneNumber, info, req.method, req.principal);
      if (!verdict.allowed) return refusal(req, info, verdict, metrics);
      let extraFlags: string[] = [];
      if (carrier) {
        const answer = await carrier.lookup.lookup(req.phoneNumber);
        if (answer.ok && answer.cached) metrics.carrierLookups.inc({ result: 'cache_hit' });
        if (answer.ok && answer.type !== 'unknown') {
          info = { ...info, type: answer.type, source: 'carrier' };
          verdict = policy.evaluate(req.phoneNumber, info, req.method, req.principal);
          if (!verdict.allowed) return refusal(req, info, verdict, metrics);
        } else if (!answer.ok) {
          if (carrier.onError === 'refuse') {
            return {
              status: 503,
              code: ErrorCodes.NUMBER_LOOKUP_FAILED,
              message: `the carrier lookup failed (${answer.failure}) and numbers.carrierLookup.onError is refuse; try again later`,
              details: { lookup: answer.failure },
            };
          }
          extraFlags = ['lookup_failed'];
        }
      }
      const flags = [...verdict.flags, ...extraFlags];
      notes.phoneNumberInfo = flags.length > 0 ? { ...info, flags } : info;
      return undefined;
    },
    created(req, notes) {
      const info = notes.phoneNumberInfo;
      if (info) metrics.creations.inc({ method: req.method, country: info.country, type: info.type });
    },
  };
}
