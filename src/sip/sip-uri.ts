import { isTrimSpace } from './sip-chars.js';
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
   * as written ("+1-555-123-4567"). undefined when the URI has no user part.
   */
  user: string | undefined;
  /** Parameters written inside a sip user part ("+1555;npdi;verstat=...@host"); keys lowercase. */
  userParams: ReadonlyMap<string, string>;
  /** Lowercased host; IPv6 references keep their brackets. undefined for tel:. */
  host: string | undefined;
  port: number | undefined;
  /** URI parameters (sip) or tel parameters; keys lowercase, flag parameters have the value "". */
  params: ReadonlyMap<string, string>;
}

const EMPTY: ReadonlyMap<string, string> = new Map();

/** Decodes %XX escapes to latin1 characters; a malformed escape is kept as written. */
export function unescapeUriPart(s: string): string {
  if (s.indexOf('%') < 0) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === '%' && i + 2 < s.length && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

/** Parses ";a=b;c" (leading ";" optional) into a map with lowercase keys; values unescaped. */
export function parseParams(text: string): Map<string, string> {
  // By index, not split/trim: one string per name and per value, no intermediate parts.
  const map = new Map<string, string>();
  const len = text.length;
  for (let start = 0; start <= len; ) {
    let end = text.indexOf(';', start);
    if (end === -1) end = len;
    let ps = start;
    let pe = end;
    while (ps < pe && isTrimSpace(text.charCodeAt(ps))) ps++;
    while (pe > ps && isTrimSpace(text.charCodeAt(pe - 1))) pe--;
    if (ps < pe) {
      let eq = text.indexOf('=', ps);
      if (eq >= pe) eq = -1;
      let ne = eq < 0 ? pe : eq;
      while (ne > ps && isTrimSpace(text.charCodeAt(ne - 1))) ne--;
      if (ne > ps) {
        const name = text.slice(ps, ne).toLowerCase();
        // First occurrence wins, so a later duplicate cannot override what a proxy put first.
        if (!map.has(name)) {
          let value = '';
          if (eq >= 0) {
            let vs = eq + 1;
            let ve = pe;
            while (vs < ve && isTrimSpace(text.charCodeAt(vs))) vs++;
            if (ve - vs >= 2 && text.charCodeAt(vs) === 0x22 && text.charCodeAt(ve - 1) === 0x22) {
              vs++;
              ve--;
            }
            value = text.slice(vs, ve);
          }
          map.set(name, unescapeUriPart(value));
        }
      }
    }
    start = end + 1;
  }
  return map;
}

const HOST_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?\.?)+$|^\[[0-9A-Fa-f:.]+\]$/;

function parseHostPort(text: string): { host: string; port: number | undefined } | undefined {
  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return undefined;
    host = text.slice(0, close + 1);
    const rest = text.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return undefined;
      portText = rest.slice(1);
    }
  } else {
    const colon = text.indexOf(':');
    host = colon < 0 ? text : text.slice(0, colon);
    portText = colon < 0 ? undefined : text.slice(colon + 1);
  }
  if (host === '' || !HOST_RE.test(host)) return undefined;
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) return undefined;
    port = Number(portText);
    if (port > 65535) return undefined;
  }
  return { host: host.toLowerCase(), port };
}

function parseSip(scheme: 'sip' | 'sips', rest: string): SipUri | undefined {
  const q = rest.indexOf('?');
  const main = q < 0 ? rest : rest.slice(0, q);
  const at = main.lastIndexOf('@');
  let user: string | undefined;
  let userParams: ReadonlyMap<string, string> = EMPTY;
  let hostPart = main;
  if (at >= 0) {
    let userinfo = main.slice(0, at);
    hostPart = main.slice(at + 1);
    const colon = userinfo.indexOf(':');
    if (colon >= 0) userinfo = userinfo.slice(0, colon); // drop the (deprecated) password
    const semi = userinfo.indexOf(';');
    if (semi >= 0) {
      userParams = parseParams(userinfo.slice(semi + 1));
      userinfo = userinfo.slice(0, semi);
    }
    if (userinfo === '' || /[\s<>"]/.test(userinfo)) return undefined;
    user = unescapeUriPart(userinfo);
  }
  const semi = hostPart.indexOf(';');
  const hp = parseHostPort(semi < 0 ? hostPart : hostPart.slice(0, semi));
  if (hp === undefined) return undefined;
  return {
    scheme,
    user,
    userParams,
    host: hp.host,
    port: hp.port,
    params: semi < 0 ? EMPTY : parseParams(hostPart.slice(semi + 1)),
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
    userParams: EMPTY,
    host: undefined,
    port: undefined,
    params: semi < 0 ? EMPTY : parseParams(rest.slice(semi + 1)),
  };
}

/** Parses a bare sip:, sips: or tel: URI (no angle brackets). undefined for anything else. */
export function parseUri(text: string): SipUri | undefined {
  if (typeof text !== 'string' || text.length > 4096) return undefined;
  const s = text.trim();
  const colon = s.indexOf(':');
  if (colon < 3 || colon > 4) return undefined;
  const scheme = s.slice(0, colon).toLowerCase();
  const rest = s.slice(colon + 1);
  if (rest === '') return undefined;
  if (scheme === 'sip' || scheme === 'sips') return parseSip(scheme, rest);
  if (scheme === 'tel') return parseTel(rest);
  return undefined;
}

const VISUAL_SEPARATORS_RE = /[\s\-.()/]/g;
const PHONE_RE = /^\+?[0-9]{1,20}$/;

/** Removes RFC 3966 visual separators (and stray spaces/slashes) from a dialled string. */
export function stripVisualSeparators(s: string): string {
  return s.replace(VISUAL_SEPARATORS_RE, '');
}

/**
 * The phone number a URI carries: the tel: number or the sip user part, visual separators removed,
 * with a global `phone-context=+CC` prefix applied to a local number (RFC 3966 §5.1.5). undefined
 * when the user part is not a number ("alice", "anonymous", "*21#").
 */
export function uriPhoneNumber(uri: SipUri): string | undefined {
  if (uri.user === undefined) return undefined;
  let n = stripVisualSeparators(uri.user);
  if (!PHONE_RE.test(n)) return undefined;
  if (!n.startsWith('+')) {
    const ctx = uri.scheme === 'tel' ? uri.params.get('phone-context') : uri.userParams.get('phone-context');
    if (ctx !== undefined && ctx.startsWith('+')) {
      const prefix = stripVisualSeparators(ctx);
      if (PHONE_RE.test(prefix)) n = prefix + n;
    }
  }
  return n;
}
