import {
  Metadata,
  getCountryCallingCode,
  isSupportedCountry,
  parsePhoneNumberFromString,
  type CountryCode,
} from 'libphonenumber-js/min';
import { ErrorCodes } from '../errors/codes.js';
import { RingproofError } from '../errors/ringproof-error.js';
import { isPlainNumber, stripVisualSeparators } from '../sip/wire/index.js';
import { detachString } from '../v8/detach-string.js';
import { LruCache } from './lru-cache.js';

/**
 * CLI/DID normalization to E.164 with libphonenumber-js.
 *
 * - "min" metadata: it carries the possible lengths and national-prefix rules that parsing and
 *   isPossible() use, at a fraction of "max"'s size; both measured ~15 µs per parse here.
 * - A number is accepted when it is *possible* (right length for its plan), not *valid*: test and
 *   fictional ranges (+1 555 …), brand-new number blocks and ported ranges fail isValid() on stale
 *   metadata, and a verification needs the caller's number to match, not to be allocated.
 * - National forms use the trunk's default country; "00"/IDD prefixes and a missing "+" in front
 *   of a country code are retried as international when the national reading is impossible, and
 *   the trunk country's own code without "+" wins where national numbers need a trunk prefix
 *   ("4930123456" on a DE trunk, where national numbers start with "0").
 * - Carriers repeat numbers (DIDs always), so results are kept in a bounded LRU per normalizer.
 * - Fast path: "+" and digits whose national part has a length possible for *every* plan of its
 *   calling code, and which no plan could read as carrying a national prefix, are already E.164 and
 *   skip the library (~15 µs → well under 1 µs). Anything else goes to the library.
 */
export interface PhoneNormalizer {
  readonly country: CountryCode;
  /** E.164 ("+442012345678"), or null when the text is not a possible phone number. */
  normalize(raw: string): string | null;
  /**
   * normalize() for values that recur (DIDs: a deployment has a handful): the cache is asked
   * first and keeps every result, so a repeat costs one lookup.
   */
  normalizeRepeated(raw: string): string | null;
}

export interface PhoneNormalizerOptions {
  /** Distinct inputs remembered; default 10,000. */
  cacheSize?: number;
  /** Skip the library for plain "+digits" input it would return unchanged; default true. */
  fastPath?: boolean;
}

/** Shortest all-digit input retried with a "+" (country code without the plus, e.g. "447700900123"). */
const MIN_DIGITS_FOR_PLUS_RETRY = 10;
const MAX_INPUT = 64;
const DIGITS_RE = /^\+?[0-9]+$/;
/** Cache value for "not a number", since the LRU treats undefined as absent. */
const NOT_A_NUMBER = '';

interface CallingCodePlan {
  lengths: ReadonlySet<number>;
  /** Anchored alternation of the national-prefix-for-parsing patterns of every plan sharing the code. */
  prefix: RegExp | undefined;
}

/** The slice of libphonenumber-js's Metadata class the fast path reads (not in its typings). */
interface MetadataRuntime {
  countryCallingCodes(): Record<string, unknown>;
  getCountryCodesForCallingCode(code: string): string[] | undefined;
  selectNumberingPlan(countryOrCallingCode: string): void;
  numberingPlan?: {
    possibleLengths(): number[] | undefined;
    nationalPrefixForParsing(): string | undefined;
    nationalPrefix(): string | undefined;
  };
}

/** The country's national (trunk) prefix, e.g. "0" for GB/DE, "1" for US; undefined if none/unknown. */
function nationalPrefixOf(country: CountryCode): string | undefined {
  try {
    const md = new Metadata() as unknown as MetadataRuntime;
    md.selectNumberingPlan(country);
    return md.numberingPlan?.nationalPrefix() || undefined;
  } catch {
    return undefined;
  }
}

let fastTable: Map<string, CallingCodePlan> | undefined;

/** Built once per process from the library's own metadata; empty (no fast path) if that fails. */
function fastPathTable(): Map<string, CallingCodePlan> {
  if (fastTable !== undefined) return fastTable;
  const table = new Map<string, CallingCodePlan>();
  try {
    const md = new Metadata() as unknown as MetadataRuntime;
    const nonGeo = ['800', '808', '870', '878', '881', '882', '883', '888', '979'];
    const codes = new Set([...Object.keys(md.countryCallingCodes()), ...nonGeo]);
    for (const code of codes) {
      const plans = md.getCountryCodesForCallingCode(code) ?? [code];
      let lengths: Set<number> | undefined;
      const prefixes = new Set<string>();
      let usable = plans.length > 0;
      for (const plan of plans) {
        md.selectNumberingPlan(plan);
        const np = md.numberingPlan;
        const pl = np?.possibleLengths();
        if (np === undefined || pl === undefined || pl.length === 0) {
          usable = false;
          break;
        }
        lengths = lengths === undefined ? new Set(pl) : new Set(pl.filter((l) => lengths!.has(l)));
        const npfp = np.nationalPrefixForParsing();
        if (npfp) prefixes.add(npfp);
      }
      if (usable && lengths !== undefined && lengths.size > 0) {
        // One regex per code: NANP's 25 plans share a handful of distinct patterns.
        const prefix = prefixes.size === 0 ? undefined : new RegExp(`^(?:${[...prefixes].map((p) => `(?:${p})`).join('|')})`);
        table.set(code, { lengths, prefix });
      }
    }
  } catch {
    table.clear();
  }
  fastTable = table;
  return table;
}

/** True when "+digits" is certainly a possible E.164 number the library would return unchanged. */
export function isFastPathE164(s: string): boolean {
  const len = s.length;
  if (len < 9 || len > 16 || s.charCodeAt(0) !== 43 /* + */) return false;
  for (let i = 1; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  const byCode = fastPathByCode();
  // Calling codes are prefix-free: at most one of the 1–3 digit prefixes is a code. Looked up by
  // their digits' value (no slice, no string hashing per call).
  let code = 0;
  for (let cc = 1; cc <= 3; cc++) {
    code = code * 10 + (s.charCodeAt(cc) - 48);
    const plan = byCode[cc * 1000 + code];
    if (plan === undefined) continue;
    if (!plan.lengths.has(len - 1 - cc)) return false;
    return plan.prefix === undefined || !plan.prefix.test(s.slice(1 + cc));
  }
  return false;
}

let fastByCode: (CallingCodePlan | undefined)[] | undefined;

/** fastPathTable() indexed by digit count × 1000 + the code's value ("44" → 2044, "1" → 1001). */
function fastPathByCode(): (CallingCodePlan | undefined)[] {
  if (fastByCode !== undefined) return fastByCode;
  const byCode: (CallingCodePlan | undefined)[] = new Array<CallingCodePlan | undefined>(4000).fill(undefined);
  for (const [code, plan] of fastPathTable()) {
    if (/^[0-9]{1,3}$/.test(code)) byCode[code.length * 1000 + Number(code)] = plan;
  }
  fastByCode = byCode;
  return byCode;
}

export function createPhoneNormalizer(defaultCountry: string, opts: PhoneNormalizerOptions = {}): PhoneNormalizer {
  const country = defaultCountry.toUpperCase();
  if (!isSupportedCountry(country)) {
    throw new RingproofError(ErrorCodes.CONFIG_INVALID, `defaultCountry "${defaultCountry}" is not a supported ISO 3166-1 alpha-2 code`);
  }
  const fastPath = opts.fastPath !== false;
  if (fastPath) fastPathTable();
  const cache = new LruCache<string, string>(opts.cacheSize ?? 10_000);
  const callingCode = getCountryCallingCode(country);
  const nationalPrefix = nationalPrefixOf(country);

  const possible = (text: string): string | undefined => {
    const p = parsePhoneNumberFromString(text, { defaultCountry: country });
    return p !== undefined && p.isPossible() ? p.number : undefined;
  };

  const compute = (s: string): string | null => {
    if (s.charCodeAt(0) === 43) return possible(s) ?? null;
    // "4930123456" on a DE trunk: national numbers there start with the trunk prefix "0", so
    // digits that start with the country's own code instead are international without the "+".
    if (
      nationalPrefix !== undefined &&
      !s.startsWith(nationalPrefix) &&
      s.startsWith(callingCode) &&
      s.length >= MIN_DIGITS_FOR_PLUS_RETRY
    ) {
      const intl = possible('+' + s);
      if (intl !== undefined) return intl;
    }
    const direct = possible(s);
    if (direct !== undefined) return direct;
    // "00" is the IDD prefix of most of the world; trunks elsewhere send it too.
    if (s.startsWith('00') && !s.startsWith('000')) return possible('+' + s.slice(2)) ?? null;
    if (s.length >= MIN_DIGITS_FOR_PLUS_RETRY) return possible('+' + s) ?? null;
    return null;
  };

  /** The text as the library should see it, or null when it cannot be a number at all. */
  const prepare = (raw: string): string | null => {
    if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_INPUT) return null;
    if (isPlainNumber(raw)) return raw; // the usual "+digits": nothing to strip, nothing to test
    const s = stripVisualSeparators(raw);
    return DIGITS_RE.test(s) ? s : null;
  };
  // What the cache keeps is detached: `s` is usually a slice of the INVITE's text, and the library's
  // result may be built from it; a cached slice would keep the whole datagram alive.
  const cached = (s: string): string | null => {
    const result = compute(s);
    cache.set(detachString(s), result === null ? NOT_A_NUMBER : detachString(result));
    return result;
  };

  return {
    country,
    normalize(raw: string): string | null {
      const s = prepare(raw);
      if (s === null) return null;
      if (fastPath && isFastPathE164(s)) return s;
      const hit = cache.get(s);
      if (hit !== undefined) return hit === NOT_A_NUMBER ? null : hit;
      return cached(s);
    },
    normalizeRepeated(raw: string): string | null {
      const s = prepare(raw);
      if (s === null) return null;
      const hit = cache.get(s);
      if (hit !== undefined) return hit === NOT_A_NUMBER ? null : hit;
      if (fastPath && isFastPathE164(s)) {
        const kept = detachString(s);
        cache.set(kept, kept);
        return kept;
      }
      return cached(s);
    },
  };
}
