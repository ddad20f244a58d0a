import type { CliSource } from '../config/config-types.js';
import { type NameAddr, parseNameAddr, uriPhoneNumber } from '../sip/wire/index.js';
import type { CliOrigin, Verstat } from './call-event.js';
import type { PhoneNormalizer } from './phone-normalize.js';

/**
 * Caller ID (CLI) extraction from an INVITE's identity headers.
 *
 * Rules (documented for operators in the report / README):
 * - Sources are tried in the trunk's `cliSources` order (default P-Asserted-Identity, Remote-Party-ID,
 *   From). The first source that is *decisive* wins: it yields a possible phone number, or it is
 *   anonymous (then the call is withheld). A source holding only a non-number ("sip:alice@host") is
 *   remembered and the next source is tried.
 * - Several PAI values (one line with commas or several lines): a tel: URI with a number is preferred,
 *   then a sip/sips URI whose user part is a number (RFC 3325 allows one of each).
 * - Remote-Party-ID: values with `party=called` are ignored; `privacy=full` or `privacy=uri` means
 *   withheld (`privacy=name` hides only the display name). `screen=no` (unscreened) does not change
 *   the CLI: anti-spoofing is verstat/STIR-SHAKEN's job downstream.
 * - `Privacy: id` (RFC 3325) or `Privacy: user` (RFC 3323, the caller's own anonymity request) mean
 *   withheld; `header` and `session` only concern routing headers and media, so they do not.
 * - Anonymous URIs: a user part anonymous/unavailable/restricted/withheld/private/unknown, the host
 *   anonymous.invalid (RFC 3323), or such a display name over a non-number user part.
 * - verstat (ATIS-1000074 / 3GPP TS 24.229) is read from a PAI tel URI, then any other PAI value, then
 *   From, then the value the CLI was taken from (Remote-Party-ID): as a header parameter, a URI
 *   parameter, or a user-part parameter. The carrier's verification service writes it on the
 *   network-asserted identity first, whichever header the trunk's cliSources read the number from.
 */

/** The header accessors extraction needs; InboundInvite satisfies it. */
export interface HeaderSource {
  header(name: string): string | undefined;
  headerValues(name: string): readonly string[];
}

export interface CliResult {
  /** E.164, or null when withheld or not a possible phone number. */
  cli: string | null;
  origin: CliOrigin;
  /** The number as found (user part / tel number); null when withheld or absent. */
  raw: string | null;
  verstat: Verstat | null;
}

const ANONYMOUS_WORDS: ReadonlySet<string> = new Set([
  'anonymous', 'unavailable', 'restricted', 'withheld', 'private', 'unknown',
]);
const MIN_ANONYMOUS = Math.min(...[...ANONYMOUS_WORDS].map((w) => w.length));
const MAX_ANONYMOUS = Math.max(...[...ANONYMOUS_WORDS].map((w) => w.length));
const ANONYMOUS_HOST = 'anonymous.invalid';
const WITHHOLDING_PRIVACY: ReadonlySet<string> = new Set(['id', 'user']);
const KNOWN_VERSTAT = ['TN-Validation-Passed', 'TN-Validation-Failed', 'No-TN-Validation'];
const MAX_VERSTAT = 64;

export function isAnonymous(na: NameAddr): boolean {
  const uri = na.uri;
  if (uri.host === ANONYMOUS_HOST) return true;
  if (isAnonymousWord(uri.user)) return true;
  return isAnonymousWord(na.displayName) && uriPhoneNumber(uri) === undefined;
}

/** One of ANONYMOUS_WORDS in any letter case; most user parts (numbers) are ruled out by their first character. */
function isAnonymousWord(s: string | undefined): boolean {
  if (s === undefined || s.length < MIN_ANONYMOUS || s.length > MAX_ANONYMOUS) return false;
  const c = s.charCodeAt(0) | 0x20;
  return c >= 97 && c <= 122 && ANONYMOUS_WORDS.has(s.toLowerCase());
}

/** True when a Privacy header asks for the identity to be hidden ("id", "user"). */
export function privacyWithholds(values: readonly string[]): boolean {
  for (const v of values) {
    for (const token of v.split(/[\s;,]+/)) {
      if (WITHHOLDING_PRIVACY.has(token.toLowerCase())) return true;
    }
  }
  return false;
}

function canonicalVerstat(v: string | undefined): Verstat | undefined {
  if (v === undefined || v === '' || v.length > MAX_VERSTAT) return undefined;
  const lower = v.toLowerCase();
  for (const k of KNOWN_VERSTAT) if (k.toLowerCase() === lower) return k;
  return v;
}

export function verstatOf(na: NameAddr): Verstat | undefined {
  return (
    canonicalVerstat(na.params.get('verstat')) ??
    canonicalVerstat(na.uri.params.get('verstat')) ??
    canonicalVerstat(na.uri.userParams.get('verstat'))
  );
}

type Verdict =
  | { kind: 'number'; cli: string; raw: string; na: NameAddr }
  | { kind: 'withheld'; na: NameAddr }
  | { kind: 'other'; raw: string | null; na: NameAddr };

/** Shared result for an absent header: parseAll allocates nothing then. */
const NO_NAME_ADDRS: readonly NameAddr[] = Object.freeze([]);

function parseAll(values: readonly string[]): readonly NameAddr[] {
  if (values.length === 0) return NO_NAME_ADDRS;
  const out: NameAddr[] = [];
  for (const v of values) {
    const na = parseNameAddr(v);
    if (na !== undefined) out.push(na);
  }
  return out;
}

type Normalize = Pick<PhoneNormalizer, 'normalize'>;

/** Picks the best of several values: tel number, then sip number, then anonymous, then anything. */
function judge(candidates: readonly NameAddr[], normalizer: Normalize): Verdict | undefined {
  // One value (a From, a single PAI) is judged alone: no loop state.
  if (candidates.length === 1) return judgeOne(candidates[0] as NameAddr, normalizer);
  let sipNumber: Verdict | undefined;
  let anonymous: NameAddr | undefined;
  let other: NameAddr | undefined;
  for (const na of candidates) {
    const number = uriPhoneNumber(na.uri);
    const anon = isAnonymous(na);
    if (number !== undefined && !anon) {
      const cli = normalizer.normalize(number);
      if (cli !== null) {
        const v: Verdict = { kind: 'number', cli, raw: na.uri.user ?? number, na };
        if (na.uri.scheme === 'tel') return v;
        sipNumber ??= v;
        continue;
      }
    }
    if (anon) anonymous ??= na;
    else other ??= na;
  }
  if (sipNumber !== undefined) return sipNumber;
  if (anonymous !== undefined) return { kind: 'withheld', na: anonymous };
  if (other !== undefined) return { kind: 'other', raw: other.uri.user ?? null, na: other };
  return undefined;
}

/** judge() of a single value. */
function judgeOne(na: NameAddr, normalizer: Normalize): Verdict {
  const number = uriPhoneNumber(na.uri);
  const anon = isAnonymous(na);
  if (number !== undefined && !anon) {
    const cli = normalizer.normalize(number);
    if (cli !== null) return { kind: 'number', cli, raw: na.uri.user ?? number, na };
  }
  return anon ? { kind: 'withheld', na } : { kind: 'other', raw: na.uri.user ?? null, na };
}

function rpidCandidates(values: readonly NameAddr[]): { usable: NameAddr[]; privacyWithheld: NameAddr | undefined } {
  const usable: NameAddr[] = [];
  let privacyWithheld: NameAddr | undefined;
  for (const na of values) {
    const party = na.params.get('party')?.toLowerCase();
    if (party !== undefined && party !== 'calling') continue;
    const privacy = na.params.get('privacy')?.toLowerCase();
    if (privacy === 'full' || privacy === 'uri') {
      privacyWithheld ??= na;
      continue;
    }
    usable.push(na);
  }
  return { usable, privacyWithheld };
}

/**
 * The identity headers of one extraction, each parsed at most once and only when asked for. A plain
 * object with functions beside it rather than closures: extraction runs once per call.
 */
interface Parsed {
  headers: HeaderSource;
  pai: readonly NameAddr[] | undefined;
  /** undefined: not read yet; null: absent or not a name-addr. */
  from: NameAddr | null | undefined;
}

function paiValues(p: Parsed): readonly NameAddr[] {
  return (p.pai ??= parseAll(p.headers.headerValues('p-asserted-identity')));
}

function fromValue(p: Parsed): NameAddr | null {
  if (p.from === undefined) {
    const f = p.headers.header('from');
    p.from = (f === undefined ? undefined : parseNameAddr(f)) ?? null;
  }
  return p.from;
}

function findVerstat(p: Parsed, chosen: NameAddr | undefined): Verstat | null {
  const pais = paiValues(p);
  for (const na of pais) {
    if (na.uri.scheme !== 'tel') continue;
    const v = verstatOf(na);
    if (v !== undefined) return v;
  }
  for (const na of pais) {
    if (na.uri.scheme === 'tel') continue;
    const v = verstatOf(na);
    if (v !== undefined) return v;
  }
  const f = fromValue(p);
  if (f !== null) {
    const v = verstatOf(f);
    if (v !== undefined) return v;
  }
  // The CLI usually came from the From just read: no second look at the same parameters.
  return chosen !== undefined && chosen !== f ? (verstatOf(chosen) ?? null) : null;
}

export function extractCli(headers: HeaderSource, sources: readonly CliSource[], normalizer: Normalize): CliResult {
  const p: Parsed = { headers, pai: undefined, from: undefined };

  if (privacyWithholds(headers.headerValues('privacy'))) {
    return { cli: null, origin: 'withheld', raw: null, verstat: findVerstat(p, undefined) };
  }

  let fallback: { origin: CliOrigin; raw: string | null; na: NameAddr } | undefined;
  for (const source of sources) {
    let verdict: Verdict | undefined;
    if (source === 'pai') {
      verdict = judge(paiValues(p), normalizer);
    } else if (source === 'rpid') {
      const rpids = parseAll(headers.headerValues('remote-party-id'));
      if (rpids.length === 0) continue;
      const { usable, privacyWithheld } = rpidCandidates(rpids);
      verdict = judge(usable, normalizer);
      if (privacyWithheld !== undefined && verdict?.kind !== 'number') verdict = { kind: 'withheld', na: privacyWithheld };
    } else {
      const f = fromValue(p);
      verdict = f === null ? undefined : judgeOne(f, normalizer);
    }
    if (verdict === undefined) continue;
    if (verdict.kind === 'number') {
      return { cli: verdict.cli, origin: source, raw: verdict.raw, verstat: findVerstat(p, verdict.na) };
    }
    if (verdict.kind === 'withheld') {
      return { cli: null, origin: 'withheld', raw: null, verstat: findVerstat(p, verdict.na) };
    }
    fallback ??= { origin: source, raw: verdict.raw, na: verdict.na };
  }
  if (fallback !== undefined) {
    return { cli: null, origin: fallback.origin, raw: fallback.raw, verstat: findVerstat(p, fallback.na) };
  }
  return { cli: null, origin: sources[0] ?? 'from', raw: null, verstat: findVerstat(p, undefined) };
}
