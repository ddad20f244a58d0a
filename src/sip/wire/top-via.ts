import { detachString as flatKey } from '../../v8/detach-string.js';
import { hasAt, isTokenChar, isTrimSpace, lowerEquals } from './sip-chars.js';
/** The RFC 3261 branch cookie (§8.1.1.7). */
export const MAGIC_COOKIE = 'z9hG4bK';

/** True when a branch carries the RFC 3261 cookie and something after it (RFC 4475 §3.2.1). */
export function isRfc3261Branch(branch: string | undefined): branch is string {
  return branch !== undefined && branch.length > MAGIC_COOKIE.length && hasAt(branch, 0, MAGIC_COOKIE);
}

/** What the UAS needs from the topmost Via: transaction matching and response routing fields. */
export interface TopVia {
  /** The first Via element's raw text (one value of possibly several in the header line). */
  raw: string;
  /** Rest of that header line after the first element, starting with "," or empty. */
  rest: string;
  transport: string;
  host: string;
  port: number | undefined;
  branch: string | undefined;
  hasRport: boolean;
  /** False when the Via has empty parameters or list items (";;", ",,"): answer 400. */
  wellFormed: boolean;
}

// sent-protocol "SIP / 2.0 / UDP" may carry LWS around the slashes (RFC 4475 wsinv).
const VIA_RE = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z0-9\-.!%*_+`'~]+)\s+(\[[0-9A-Fa-f:.]+\]|[^\s;:,]+)(?:\s*:\s*(\d{1,5}))?\s*(;.*)?$/;

/** Parses the first element of the first Via header line, or undefined when it is malformed. */
export function parseTopVia(line: string): TopVia | undefined {
  return parsePlainTopVia(line) ?? parseTopViaGeneral(line);
}

/** parseTopVia by the regular expression: every form RFC 3261 and RFC 4475 allow. */
export function parseTopViaGeneral(line: string): TopVia | undefined {
  const comma = firstTopLevelComma(line);
  const raw = comma === -1 ? line : line.slice(0, comma).trim();
  const rest = comma === -1 ? '' : line.slice(comma);
  const m = VIA_RE.exec(raw);
  if (!m) return undefined;
  let branch: string | undefined;
  let hasRport = false;
  let wellFormed = !/,\s*(,|;|$)/.test(rest);
  const params = m[4];
  if (params !== undefined) {
    for (const p of params.slice(1).split(';')) {
      const eq = p.indexOf('=');
      const name = (eq === -1 ? p : p.slice(0, eq)).trim().toLowerCase();
      if (name === '') wellFormed = false;
      if (name === 'branch' && eq !== -1) branch = p.slice(eq + 1).trim();
      else if (name === 'rport') hasRport = true;
    }
  }
  const portText = m[3];
  const port = portText === undefined ? undefined : Number.parseInt(portText, 10);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  return { raw, rest, transport: (m[1] as string).toUpperCase(), host: m[2] as string, port, branch, hasRport, wellFormed };
}

/** Where the parts of a plain top Via lie (see scanPlainVia); -1 for an absent part. */
interface PlainViaBounds {
  transportEnd: number;
  hostStart: number;
  hostEnd: number;
  /** The port's digits [hostEnd + 1, portEnd), or portEnd = -1 without a port. */
  portEnd: number;
  port: number;
  branchStart: number;
  branchEnd: number;
  hasRport: boolean;
  wellFormed: boolean;
}

// One reused record: scans are synchronous and never nested, and so allocate nothing.
const VIA: PlainViaBounds = {
  transportEnd: 0, hostStart: 0, hostEnd: 0, portEnd: -1, port: 0, branchStart: -1, branchEnd: -1, hasRport: false, wellFormed: true,
};

/**
 * The common form, read by index: "SIP/2.0/<transport> <host>[:<port>][;params]" in text[start,
 * end) as one element (no comma, no quote), no whitespace after the host, not an IPv6 reference.
 * Fills `b` and returns true for such a value; false for anything else (including a bad port),
 * which then takes the regular expression's path.
 */
function scanPlainVia(text: string, start: number, end: number, b: PlainViaBounds): boolean {
  if (!hasAt(text, start, 'SIP/2.0/')) return false;
  let i = start + 8;
  while (i < end && isTokenChar(text.charCodeAt(i))) i++;
  if (i === start + 8 || i >= end || text.charCodeAt(i) !== 32) return false;
  b.transportEnd = i;
  while (i < end && text.charCodeAt(i) === 32) i++;
  const hStart = i;
  if (i >= end || text.charCodeAt(i) === 0x5b) return false;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3b || c === 0x3a) break;
    if (c === 0x2c || c === 0x22 || isTrimSpace(c)) return false;
  }
  if (i === hStart) return false;
  b.hostStart = hStart;
  b.hostEnd = i;
  b.portEnd = -1;
  if (i < end && text.charCodeAt(i) === 0x3a) {
    const pStart = ++i;
    let n = 0;
    while (i < end && i - pStart < 6) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      n = n * 10 + (c - 48);
      i++;
    }
    if (i === pStart || i - pStart > 5 || n < 1 || n > 65535) return false;
    b.port = n;
    b.portEnd = i;
  }
  if (i < end && text.charCodeAt(i) !== 0x3b) return false;
  b.branchStart = -1;
  b.branchEnd = -1;
  b.hasRport = false;
  b.wellFormed = true;
  while (i < end) {
    const pStart = i + 1;
    let j = pStart;
    let eq = -1;
    for (; j < end; j++) {
      const c = text.charCodeAt(j);
      if (c === 0x3b) break;
      if (c === 0x2c || c === 0x22 || isTrimSpace(c)) return false;
      if (c === 0x3d && eq === -1) eq = j;
    }
    const nameEnd = eq === -1 ? j : eq;
    const nameLen = nameEnd - pStart;
    if (nameLen === 0) b.wellFormed = false;
    else if (nameLen === 6 && eq !== -1 && lowerEquals(text, pStart, 'branch')) {
      b.branchStart = eq + 1;
      b.branchEnd = j;
    } else if (nameLen === 5 && lowerEquals(text, pStart, 'rport')) b.hasRport = true;
    i = j;
  }
  return true;
}

/**
 * scanPlainVia on a whole Via value, as a TopVia: exactly what parseTopViaGeneral gives for such a
 * line; undefined for anything else, which then takes the general path.
 */
export function parsePlainTopVia(line: string): TopVia | undefined {
  const b = VIA;
  if (!scanPlainVia(line, 0, line.length, b)) return undefined;
  const transport = b.transportEnd === 11 && hasAt(line, 8, 'UDP') ? 'UDP' : line.slice(8, b.transportEnd).toUpperCase();
  return {
    raw: line,
    rest: '',
    transport,
    host: line.slice(b.hostStart, b.hostEnd),
    port: b.portEnd === -1 ? undefined : b.port,
    branch: b.branchStart === -1 ? undefined : line.slice(b.branchStart, b.branchEnd),
    hasRport: b.hasRport,
    wellFormed: b.wellFormed,
  };
}

/**
 * The RFC 3261 transaction key (see rfc3261Key) of the plain Via value text[start, end), built from
 * the text without a TopVia; undefined when the value is not plain or its branch has no cookie.
 * `keep` false: the key is only looked up, never stored, so it is not detached from `text`.
 */
export function plainViaKey(text: string, start: number, end: number, keep = true): string | undefined {
  const b = VIA;
  if (!scanPlainVia(text, start, end, b) || b.branchStart === -1) return undefined;
  if (b.branchEnd - b.branchStart <= MAGIC_COOKIE.length || !hasAt(text, b.branchStart, MAGIC_COOKIE)) return undefined;
  const branch = text.slice(b.branchStart, b.branchEnd);
  // "host:port" is one run of the text unless the port was written with leading zeros.
  let key: string;
  if (b.portEnd === -1) key = `${branch}|${text.slice(b.hostStart, b.hostEnd)}:`;
  else if (text.charCodeAt(b.hostEnd + 1) !== 48) key = `${branch}|${text.slice(b.hostStart, b.portEnd)}`;
  else key = `${branch}|${text.slice(b.hostStart, b.hostEnd)}:${b.port}`;
  return keep ? flatKey(key) : key;
}

function firstTopLevelComma(s: string): number {
  let inQuote = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) inQuote = !inQuote;
    else if (c === 0x2c && !inQuote) return i;
  }
  return -1;
}

/**
 * `via` with its first valueless rport filled in: via.replace(/;\s*rport(?=\s*(?:;|$))/i,
 * `;rport=${port}`), by index (a regular expression replace per response cost more than the rest
 * of the Via rewrite). Within latin1, \s is what isTrimSpace names.
 */
export function fillRport(via: string, port: number): string {
  const len = via.length;
  for (let i = via.indexOf(';'); i !== -1; i = via.indexOf(';', i + 1)) {
    let j = i + 1;
    while (j < len && isTrimSpace(via.charCodeAt(j))) j++;
    if (j + 5 > len || !lowerEquals(via, j, 'rport')) continue;
    let k = j + 5;
    while (k < len && isTrimSpace(via.charCodeAt(k))) k++;
    if (k === len || via.charCodeAt(k) === 0x3b) return `${via.slice(0, i)};rport=${port}${via.slice(j + 5)}`;
  }
  return via;
}

/**
 * The top Via as it goes back in a response: `received` when the sender is not where its Via says
 * (always with rport, RFC 3581), and the rport filled with the source port.
 */
export function rewriteTopVia(via: TopVia, srcAddress: string, srcPort: number): string {
  let out = via.raw;
  if (via.hasRport) out = fillRport(out, srcPort);
  const host = via.host.charCodeAt(0) === 0x5b ? via.host.slice(1, -1) : via.host;
  if (via.hasRport || host !== srcAddress) out += `;received=${srcAddress}`;
  return out + via.rest;
}
