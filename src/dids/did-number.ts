import { parsePhoneNumberWithError } from 'libphonenumber-js';

/**
 * A DID as written by an operator ("+1 555 0100 001") in E.164, or undefined when it is not one.
 * Shape only, not isValid(): test and fictional ranges (+1 555 01xx) must be usable.
 */
export function toDid(text: string): string | undefined {
  let e164: string;
  try {
    e164 = parsePhoneNumberWithError(text.trim()).number;
  } catch {
    return undefined;
  }
  return /^\+[1-9]\d{6,14}$/.test(e164) ? e164 : undefined;
}
