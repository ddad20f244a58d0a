import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { ErrorCodes } from '../errors/codes.js';
import { ApiRequestError, validationError } from './api-request-error.js';

/**
 * E.164 form of a number given by an API client. "+..." international forms always work; national
 * forms need `country`. The test here is "possible" (right length for the country) with the light
 * metadata; whether the number is valid (an allocated range) and of an accepted type is the number
 * policy's decision (src/numbers/), which names its rule in a 422 RP_NUMBER_REFUSED.
 */
export function normalizePhoneNumber(text: string, country: string | undefined): string {
  if (country !== undefined && !isSupportedCountry(country)) {
    throw validationError(`body/country "${country}" is not a supported ISO 3166-1 alpha-2 country code`, 'country');
  }
  const trimmed = text.trim();
  if (!trimmed.startsWith('+') && country === undefined) {
    throw invalid('body/phoneNumber must be in international form ("+" and country code), or give "country" for a national form');
  }
  const parsed = parsePhoneNumberFromString(trimmed, country === undefined ? undefined : { defaultCountry: country as CountryCode });
  if (!parsed || !parsed.isPossible()) {
    throw invalid('body/phoneNumber is not a possible phone number');
  }
  return parsed.number;
}

function invalid(message: string): ApiRequestError {
  return new ApiRequestError(ErrorCodes.NUMBER_INVALID, 422, message, 'phoneNumber');
}
