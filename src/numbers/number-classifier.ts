import type { NumberType as LibNumberType, PhoneNumber } from 'libphonenumber-js';
import { NON_GEOGRAPHIC_REGION, UNKNOWN_REGION, type NumberType, type PhoneNumberInfo } from './number-types.js';

/** Classifies E.164 numbers from number ranges; no I/O, safe to call on every create. */
export interface NumberClassifier {
  /** `e164` as the API normalized it; anything unparseable comes back `unknown`, not valid. */
  classify(e164: string): PhoneNumberInfo;
}

const TYPE_NAMES: Readonly<Record<NonNullable<LibNumberType>, NumberType>> = {
  MOBILE: 'mobile',
  FIXED_LINE: 'fixed_line',
  FIXED_LINE_OR_MOBILE: 'fixed_line_or_mobile',
  TOLL_FREE: 'toll_free',
  PREMIUM_RATE: 'premium_rate',
  SHARED_COST: 'shared_cost',
  VOIP: 'voip',
  PERSONAL_NUMBER: 'personal',
  PAGER: 'pager',
  UAN: 'uan',
  VOICEMAIL: 'voicemail',
};

type Parse = (text: string) => PhoneNumber | undefined;

/**
 * Loads libphonenumber-js's full ("max") metadata, which knows each region's allocated ranges per
 * number type; the "min" metadata the SIP edge uses knows lengths only. Imported here, on demand,
 * so that only processes that create verifications (API role, CLI) pay its memory, and the SIP
 * path never touches it. Call once at start-up.
 */
export async function loadNumberClassifier(): Promise<NumberClassifier> {
  const lib = await import('libphonenumber-js/max');
  return classifierFrom((text) => lib.parsePhoneNumberFromString(text));
}

function classifierFrom(parse: Parse): NumberClassifier {
  return {
    classify(e164: string): PhoneNumberInfo {
      const n = parse(e164);
      if (!n) {
        const cc = /^\+(\d{1,3})/.exec(e164)?.[1] ?? '';
        return { country: UNKNOWN_REGION, countryCallingCode: cc, type: 'unknown', valid: false, source: 'ranges' };
      }
      // With the full metadata, libphonenumber's isValid() is getType() !== undefined: one call, not two.
      const libType = n.getType();
      const valid = libType !== undefined;
      const country = n.country ?? (n.isNonGeographic() ? NON_GEOGRAPHIC_REGION : UNKNOWN_REGION);
      return {
        country,
        countryCallingCode: n.countryCallingCode,
        type: libType === undefined ? 'unknown' : TYPE_NAMES[libType],
        valid,
        source: 'ranges',
      };
    },
  };
}
