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

function parseAll(values: readonly string[]): NameAddr[] {
  const out: NameAddr[] = [];
  for (const v of values) {
    const na = parseNameAddr(v);
    if (na !== undefined) out.push(na);
  }
  return out;
}

/** Picks the best of several values: tel number, then sip number, then anonymous, then anything. */
function judge(candidates: readonly NameAddr[], normalize: (raw: string) => string | null): Verdict | undefined {
  let sipNumber: Verdict | undefined;
  let anonymous: NameAddr | undefined;
  let other: NameAddr | undefined;
  for (const na of candidates) {
    const number = uriPhoneNumber(na.uri);
    if (number !== undefined && !isAnonymous(na)) {
      const cli = normalize(number);
      if (cli !== null) {
        const v: Verdict = { kind: 'number', cli, raw: na.uri.user ?? number, na };
        if (na.uri.scheme === 'tel') return v;
        sipNumber ??= v;
        continue;
      }
    }
    if (isAnonymous(na)) anonymous ??= na;
    else other ??= na;
  }
  if (sipNumber !== undefined) return sipNumber;
  if (anonymous !== undefined) return { kind: 'withheld', na: anonymous };
  if (other !== undefined) return { kind: 'other', raw: other.uri.user ?? null, na: other };
  return undefined;
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

export function extractCli(
  headers: HeaderSource,
  sources: readonly CliSource[],
  normalizer: Pick<PhoneNormalizer, 'normalize'>,
): CliResult {
  const normalize = (raw: string): string | null => normalizer.normalize(raw);
  let pai: NameAddr[] | undefined;
  const paiValues = (): NameAddr[] => (pai ??= parseAll(headers.headerValues('p-asserted-identity')));
  let from: NameAddr | null | undefined;
  const fromValue = (): NameAddr | null => {
    if (from === undefined) {
      const f = headers.header('from');
      from = (f === undefined ? undefined : parseNameAddr(f)) ?? null;
    }
    return from;
  };

  const findVerstat = (chosen: NameAddr | undefined): Verstat | null => {
    const pais = paiValues();
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
    const f = fromValue();
    return (f !== null ? verstatOf(f) : undefined) ?? (chosen !== undefined ? verstatOf(chosen) : undefined) ?? null;
  };

  if (privacyWithholds(headers.headerValues('privacy'))) {
    return { cli: null, origin: 'withheld', raw: null, verstat: findVerstat(undefined) };
  }

  let fallback: { origin: CliOrigin; raw: string | null; na: NameAddr } | undefined;
  for (const source of sources) {
    let verdict: Verdict | undefined;
    if (source === 'pai') {
      verdict = judge(paiValues(), normalize);
    } else if (source === 'rpid') {
      const { usable, privacyWithheld } = rpidCandidates(parseAll(headers.headerValues('remote-party-id')));
      verdict = judge(usable, normalize);
      if (privacyWithheld !== undefined && verdict?.kind !== 'number') verdict = { kind: 'withheld', na: privacyWithheld };
    } else {
      const f = fromValue();
      verdict = f === null ? undefined : judge([f], normalize);
    }
    if (verdict === undefined) continue;
    if (verdict.kind === 'number') {
      return { cli: verdict.cli, origin: source, raw: verdict.raw, verstat: findVerstat(verdict.na) };
    }
    if (verdict.kind === 'withheld') {
      return { cli: null, origin: 'withheld', raw: null, verstat: findVerstat(verdict.na) };
    }
    fallback ??= { origin: source, raw: verdict.raw, na: verdict.na };
  }
  if (fallback !== undefined) {
    return { cli: null, origin: fallback.origin, raw: fallback.raw, verstat: findVerstat(fallback.na) };
  }
  return { cli: null, origin: sources[0] ?? 'from', raw: null, verstat: findVerstat(undefined) };
}
