import { parseNameAddr, parseUri, type SipUri, uriPhoneNumber } from '../sip/wire/index.js';
import { detachString } from '../v8/detach-string.js';
import type { HeaderSource } from './cli-extract.js';
import { LruCache } from './lru-cache.js';
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
  return didFromTo(ruri, headers, normalizer);
}

function didFromTo(ruri: SipUri | undefined, headers: Pick<HeaderSource, 'header'>, normalizer: Pick<PhoneNormalizer, 'normalizeRepeated'>): DidResult {
  const toText = headers.header('to');
  const to = toText === undefined ? undefined : parseNameAddr(toText);
  const fromTo = tryUri(to?.uri, normalizer);
  if (fromTo !== null) return { did: fromTo, raw: to?.uri.user ?? null };
  return { did: null, raw: ruri?.user ?? to?.uri.user ?? null };
}

/**
 * extractDid for one trunk's normalizer, with the answers read from Request-URIs remembered: a
 * deployment's calls go to a handful of DIDs, so a repeat costs one lookup instead of a URI parse.
 * Only a DID found in the Request-URI is kept (a To fallback depends on more than the key). Keys
 * and values are detached from the message text, so the memo keeps no datagram alive.
 */
export class DidExtractor {
  private readonly memo: LruCache<string, DidResult>;

  constructor(
    private readonly normalizer: Pick<PhoneNormalizer, 'normalizeRepeated'>,
    size = 1000,
  ) {
    this.memo = new LruCache(size);
  }

  extract(requestUri: string, headers: Pick<HeaderSource, 'header'>): DidResult {
    const hit = this.memo.get(requestUri);
    if (hit !== undefined) return hit;
    const ruri = parseUri(requestUri);
    const fromRuri = tryUri(ruri, this.normalizer);
    if (fromRuri === null) return didFromTo(ruri, headers, this.normalizer);
    const raw = ruri?.user ?? null;
    this.memo.set(detachString(requestUri), Object.freeze({ did: detachString(fromRuri), raw: raw === null ? null : detachString(raw) }));
    return { did: fromRuri, raw };
  }
}
