import { parseNameAddr, parseUri, type SipUri, uriPhoneNumber } from '../sip/wire/index.js';
import type { HeaderSource } from './cli-extract.js';
import type { PhoneNormalizer } from './phone-normalize.js';

/**
 * The called number (DID): the Request-URI user part (sip/sips user or tel number), falling back to
 * the To URI when the Request-URI holds no possible number (some trunks send "sip:trunkhost" or a
 * routing label there). Normalized with the trunk's default country.
 */
export interface DidResult {
  /** E.164, or null when neither URI holds a possible phone number. */
  did: string | null;
  /** The user part / tel number as found (Request-URI first), or null when both have none. */
  raw: string | null;
}

function tryUri(uri: SipUri | undefined, normalizer: Pick<PhoneNormalizer, 'normalizeRepeated'>): string | null {
  if (uri === undefined) return null;
  const n = uriPhoneNumber(uri);
  // DIDs are the same few numbers over and over: the normalizer's cache first.
  return n === undefined ? null : normalizer.normalizeRepeated(n);
}

export function extractDid(
  requestUri: string,
  headers: Pick<HeaderSource, 'header'>,
  normalizer: Pick<PhoneNormalizer, 'normalizeRepeated'>,
): DidResult {
  const ruri = parseUri(requestUri);
  const fromRuri = tryUri(ruri, normalizer);
  if (fromRuri !== null) return { did: fromRuri, raw: ruri?.user ?? null };
  const toText = headers.header('to');
  const to = toText === undefined ? undefined : parseNameAddr(toText);
  const fromTo = tryUri(to?.uri, normalizer);
  if (fromTo !== null) return { did: fromTo, raw: to?.uri.user ?? null };
  return { did: null, raw: ruri?.user ?? to?.uri.user ?? null };
}
