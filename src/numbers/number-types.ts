/**
 * Number intelligence vocabulary: what a phone number is (classification) and what ringproof does
 * with it (policy), shared by the classifier, the policy, the API, webhooks, audit and the CLI.
 */

/** libphonenumber's number types, in snake case; `unknown` is every number that is not valid. */
export const NUMBER_TYPES = [
  'mobile',
  'fixed_line',
  'fixed_line_or_mobile',
  'toll_free',
  'premium_rate',
  'shared_cost',
  'voip',
  'personal',
  'pager',
  'uan',
  'voicemail',
  'unknown',
] as const;

export type NumberType = (typeof NUMBER_TYPES)[number];

/** The verification methods a policy is kept for: the user calls us, or we ring the user (#12). */
export const VERIFICATION_METHODS = ['inbound_call', 'flash_call'] as const;

export type VerificationMethod = (typeof VERIFICATION_METHODS)[number];

/** Stable rule names: refusals, metrics and the CLI use them; the README lists them. */
export const POLICY_RULES = [
  'prefix_denied',
  'country_denied',
  'country_not_allowed',
  'invalid_number',
  'voip_refused',
  'type_not_allowed',
] as const;

export type PolicyRule = (typeof POLICY_RULES)[number];

/** libphonenumber's region code of the non-geographic calling codes (+800, +808, +870, +881–883, +888, +979). */
export const NON_GEOGRAPHIC_REGION = '001';
/** libphonenumber's "unknown region": numbers no region's ranges accept (e.g. +1 555 …). */
export const UNKNOWN_REGION = 'ZZ';

/** Where a number's type came from: libphonenumber's number ranges, or the carrier lookup (numbers.carrierLookup). */
export const CLASSIFICATION_SOURCES = ['ranges', 'carrier'] as const;

export type ClassificationSource = (typeof CLASSIFICATION_SOURCES)[number];

/** phoneNumberInfo.flags: accepted, but the app should know. */
export const NUMBER_FLAGS = ['voip', 'lookup_failed'] as const;

/** Why a carrier lookup gave no answer: the `lookup` of a 503 and the metric's `result` label. */
export const CARRIER_LOOKUP_FAILURES = ['timeout', 'http_error', 'bad_response', 'connect_error', 'egress_refused'] as const;

export type CarrierLookupFailure = (typeof CARRIER_LOOKUP_FAILURES)[number];

/**
 * What ringproof knows about a number, carried by the verification resource, its webhooks and the
 * audit trail so the app can decide its fallback by it (e.g. no SMS to VoIP).
 */
export interface PhoneNumberInfo {
  /** ISO 3166-1 alpha-2 region, "001" for non-geographic codes, "ZZ" when no region's ranges hold it. */
  country: string;
  /** Without "+", e.g. "44". */
  countryCallingCode: string;
  type: NumberType;
  /** Inside an allocated range of its region (libphonenumber isValid), not merely the right length. */
  valid: boolean;
  /** `ranges`: libphonenumber's full metadata (ranges do not show ported numbers); `carrier`: the carrier lookup's line type. */
  source: ClassificationSource;
  /** Accepted, but the app should know: `voip` (policy `voip: flag`), `lookup_failed` (carrier lookup failed, onError allow). */
  flags?: string[];
}
