import { lowerEquals } from './sip-chars.js';
import { NO_PARAMS, ParamList, unescapeUriPart, type Params } from './param-list.js';

export { parseParams, unescapeUriPart } from './param-list.js';
/**
 * Tolerant parser for the URIs that carry phone numbers in SIP: sip:, sips: (RFC 3261) and tel:
 * (RFC 3966). It reads what the edge needs (user part, host, parameters) and never throws: anything
 * it cannot make sense of is `undefined`. Input is latin1 text of the raw header bytes.
 */

export type UriScheme = 'sip' | 'sips' | 'tel';

export interface SipUri {
  scheme: UriScheme;
  /**
   * sip/sips: the user part with %XX escapes decoded and without user parameters; tel: the number
   * as written ("+1-202-555-0123"). undefined when the URI has no user part.
   */
  user: string | undefined;
  /** Parameters written inside a sip user part ("+1555;npdi;verstat=...@host"). */
  userParams: Params;
  /** Lowercased host; IPv6 references keep their brackets. undefined for tel:. */
  host: string | undefined;
  port: number | undefined;
  /** URI parameters (sip) or tel parameters; flag parameters have the value "". */
  params: Params;
}

/** True for the characters a user part may not hold unescaped here: whitespace, <, >, ". */
function badUserChar(c: number): boolean {
  return c === 0x3c || c === 0x3e || c === 0x22 || c === 32 || (c >= 9 && c <= 13) || c === 0xa0;
}

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * A host name as /^(?:[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?\.?)+$/ accepts it, read by index:
 * dot-separated labels of letters, digits, "-" and "_" that start and end with a letter or digit,
 * and at most one trailing dot.
 */
function isHostName(s: string, start: number, end: number): boolean {
  if (start >= end) return false;
  let labelStart = start;
  for (let i = start; i <= end; i++) {
    const c = i === end ? 0x2e : s.charCodeAt(i);
    if (c === 0x2e) {
      if (i === labelStart) return i === end && i > start; // empty label: only after a final dot
      if (!isAlnum(s.charCodeAt(labelStart)) || !isAlnum(s.charCodeAt(i - 1))) return false;
      labelStart = i + 1;
    } else if (!isAlnum(c) && c !== 0x2d && c !== 0x5f) {
      return false;
    }
  }
  return true;
}

/** An IPv6 reference as /^\[[0-9A-Fa-f:.]+\]$/ accepts it. */
function isIpv6Reference(s: string, start: number, end: number): boolean {
  if (end - start < 3 || s.charCodeAt(start) !== 0x5b || s.charCodeAt(end - 1) !== 0x5d) return false;
  for (let i = start + 1; i < end - 1; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 58) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102) || c === 0x2e)) return false;
  }
  return true;
}

function hasUpperCase(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 65 && c <= 90) || c >= 0xc0) return true;
  }
  return false;
}

/** Port digits text[start, end): 1-5 digits up to 65535, else -1. */
function portAt(s: string, start: number, end: number): number {
  if (end <= start || end - start > 5) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    n = n * 10 + (c - 48);
  }
  return n > 65535 ? -1 : n;
}

function parseSip(scheme: 'sip' | 'sips', rest: string): SipUri | undefined {
  let mainEnd = rest.indexOf('?');
  if (mainEnd < 0) mainEnd = rest.length;
  // The last "@" before any "?": forward indexOf, since String#lastIndexOf is a slow runtime call in V8.
  let at = -1;
  for (let p = rest.indexOf('@'); p !== -1 && p < mainEnd; p = rest.indexOf('@', p + 1)) at = p;
  let user: string | undefined;
  let userParams: Params = NO_PARAMS;
  let hostStart = 0;
  if (at >= 0) {
    let userEnd = at;
    const colon = rest.indexOf(':');
    if (colon >= 0 && colon < userEnd) userEnd = colon; // drop the (deprecated) password
    const semi = rest.indexOf(';');
    if (semi >= 0 && semi < userEnd) {
      userParams = new ParamList(rest.slice(semi + 1, userEnd));
      userEnd = semi;
    }
    if (userEnd === 0) return undefined;
    for (let i = 0; i < userEnd; i++) if (badUserChar(rest.charCodeAt(i))) return undefined;
    user = unescapeUriPart(rest.slice(0, userEnd));
    hostStart = at + 1;
  }
  let hostPortEnd = rest.indexOf(';', hostStart);
  if (hostPortEnd < 0 || hostPortEnd > mainEnd) hostPortEnd = mainEnd;
  // host[:port]; an IPv6 reference keeps its brackets.
  let hostEnd: number;
  let port: number | undefined;
  if (rest.charCodeAt(hostStart) === 0x5b) {
    const close = rest.indexOf(']', hostStart);
    if (close < 0 || close >= hostPortEnd) return undefined;
    hostEnd = close + 1;
    if (hostEnd < hostPortEnd) {
      if (rest.charCodeAt(hostEnd) !== 0x3a) return undefined;
      port = portAt(rest, hostEnd + 1, hostPortEnd);
      if (port < 0) return undefined;
    }
    if (!isIpv6Reference(rest, hostStart, hostEnd)) return undefined;
  } else {
    const colon = rest.indexOf(':', hostStart);
    hostEnd = colon < 0 || colon >= hostPortEnd ? hostPortEnd : colon;
    if (hostEnd < hostPortEnd) {
      port = portAt(rest, hostEnd + 1, hostPortEnd);
      if (port < 0) return undefined;
    }
    if (!isHostName(rest, hostStart, hostEnd)) return undefined;
  }
  return {
    scheme,
    user,
    userParams,
    host: hasUpperCase(rest, hostStart, hostEnd) ? rest.slice(hostStart, hostEnd).toLowerCase() : rest.slice(hostStart, hostEnd),
    port,
    params: hostPortEnd < mainEnd ? new ParamList(rest.slice(hostPortEnd + 1, mainEnd)) : NO_PARAMS,
  };
}

const TEL_NUMBER_RE = /^(?:\+[0-9\-.()]*[0-9][0-9\-.()]*|[0-9A-Fa-f*#\-.()]*[0-9A-Fa-f*#][0-9A-Fa-f*#\-.()]*)$/;

function parseTel(rest: string): SipUri | undefined {
  const semi = rest.indexOf(';');
  const number = unescapeUriPart(semi < 0 ? rest : rest.slice(0, semi));
  if (!TEL_NUMBER_RE.test(number)) return undefined;
  return {
    scheme: 'tel',
    user: number,
    userParams: NO_PARAMS,
    host: undefined,
    port: undefined,
    params: semi < 0 ? NO_PARAMS : new ParamList(rest.slice(semi + 1)),
  };
}

/** Parses a bare sip:, sips: or tel: URI (no angle brackets). undefined for anything else. */
export function parseUri(text: string): SipUri | undefined {
  if (typeof text !== 'string' || text.length > 4096) return undefined;
  const s = text.trim();
  const colon = s.indexOf(':');
  if (colon < 3 || colon > 4 || colon === s.length - 1) return undefined;
  const rest = s.slice(colon + 1);
  if (colon === 3) {
    if (lowerEquals(s, 0, 'sip')) return parseSip('sip', rest);
    if (lowerEquals(s, 0, 'tel')) return parseTel(rest);
  } else if (lowerEquals(s, 0, 'sips')) {
    return parseSip('sips', rest);
  }
  return undefined;
}

const VISUAL_SEPARATORS_RE = /[\s\-.()/]/g;
const PHONE_RE = /^\+?[0-9]{1,20}$/;

/** Removes RFC 3966 visual separators (and stray spaces/slashes) from a dialled string. */
export function stripVisualSeparators(s: string): string {
  return isPlainNumber(s) ? s : s.replace(VISUAL_SEPARATORS_RE, '');
}

/** /^\+?[0-9]{1,20}$/ by index: the usual form of a number, with nothing to strip. */
export function isPlainNumber(s: string): boolean {
  const len = s.length;
  const first = len > 0 && s.charCodeAt(0) === 43 ? 1 : 0;
  if (len - first < 1 || len - first > 20) return false;
  for (let i = first; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * The phone number a URI carries: the tel: number or the sip user part, visual separators removed,
 * with a global `phone-context=+CC` prefix applied to a local number (RFC 3966 §5.1.5). undefined
 * when the user part is not a number ("alice", "anonymous", "*21#").
 */
export function uriPhoneNumber(uri: SipUri): string | undefined {
  if (uri.user === undefined) return undefined;
  let n = uri.user;
  if (!isPlainNumber(n)) {
    n = stripVisualSeparators(n);
    if (!PHONE_RE.test(n)) return undefined;
  }
  if (n.charCodeAt(0) !== 43) {
    const ctx = uri.scheme === 'tel' ? uri.params.get('phone-context') : uri.userParams.get('phone-context');
    if (ctx !== undefined && ctx.charCodeAt(0) === 43) {
      const prefix = stripVisualSeparators(ctx);
      if (PHONE_RE.test(prefix)) n = prefix + n;
    }
  }
  return n;
}

/** /^(sips?|tel):/i by character codes: the URI schemes a UAS here serves (RFC 3261 §8.2.2.1). */
export function hasServedScheme(uri: string): boolean {
  if (uri.length < 4) return false;
  const c3 = uri.charCodeAt(3);
  if (lowerEquals(uri, 0, 'sip')) return c3 === 0x3a || ((c3 | 0x20) === 0x73 && uri.charCodeAt(4) === 0x3a);
  return c3 === 0x3a && lowerEquals(uri, 0, 'tel');
}
