import { hasAt, isTokenChar, isTrimSpace, lowerEquals } from './sip-chars.js';
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

/**
 * The common form, read without the regular expression and its match array:
 * "SIP/2.0/<transport> <host>[:<port>][;params]" as one element (no comma, no quote), no whitespace
 * after the host, not an IPv6 reference. Gives exactly what parseTopViaGeneral gives for such a
 * line; undefined for anything else (including a bad port), which then takes the general path.
 */
export function parsePlainTopVia(line: string): TopVia | undefined {
  const end = line.length;
  if (!hasAt(line, 0, 'SIP/2.0/')) return undefined;
  let i = 8;
  while (i < end && isTokenChar(line.charCodeAt(i))) i++;
  if (i === 8 || i >= end || line.charCodeAt(i) !== 32) return undefined;
  const tEnd = i;
  while (i < end && line.charCodeAt(i) === 32) i++;
  const hStart = i;
  if (i >= end || line.charCodeAt(i) === 0x5b) return undefined;
  for (; i < end; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x3b || c === 0x3a) break;
    if (c === 0x2c || c === 0x22 || isTrimSpace(c)) return undefined;
  }
  const hEnd = i;
  if (hEnd === hStart) return undefined;
  let port: number | undefined;
  if (i < end && line.charCodeAt(i) === 0x3a) {
    const pStart = ++i;
    let n = 0;
    while (i < end && i - pStart < 6) {
      const c = line.charCodeAt(i);
      if (c < 48 || c > 57) break;
      n = n * 10 + (c - 48);
      i++;
    }
    if (i === pStart || i - pStart > 5 || n < 1 || n > 65535) return undefined;
    port = n;
  }
  if (i < end && line.charCodeAt(i) !== 0x3b) return undefined;
  let branch: string | undefined;
  let hasRport = false;
  let wellFormed = true;
  while (i < end) {
    const pStart = i + 1;
    let j = pStart;
    let eq = -1;
    for (; j < end; j++) {
      const c = line.charCodeAt(j);
      if (c === 0x3b) break;
      if (c === 0x2c || c === 0x22 || isTrimSpace(c)) return undefined;
      if (c === 0x3d && eq === -1) eq = j;
    }
    const nameEnd = eq === -1 ? j : eq;
    const nameLen = nameEnd - pStart;
    if (nameLen === 0) wellFormed = false;
    else if (nameLen === 6 && eq !== -1 && lowerEquals(line, pStart, 'branch')) branch = line.slice(eq + 1, j);
    else if (nameLen === 5 && lowerEquals(line, pStart, 'rport')) hasRport = true;
    i = j;
  }
  const tStart = 8;
  const transport = tEnd - tStart === 3 && hasAt(line, tStart, 'UDP') ? 'UDP' : line.slice(tStart, tEnd).toUpperCase();
  return { raw: line, rest: '', transport, host: line.slice(hStart, hEnd), port, branch, hasRport, wellFormed };
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
 * The top Via as it goes back in a response: `received` when the sender is not where its Via says
 * (always with rport, RFC 3581), and the rport filled with the source port.
 */
export function rewriteTopVia(via: TopVia, srcAddress: string, srcPort: number): string {
  let out = via.raw;
  if (via.hasRport) out = out.replace(/;\s*rport(?=\s*(?:;|$))/i, `;rport=${srcPort}`);
  const host = via.host.charCodeAt(0) === 0x5b ? via.host.slice(1, -1) : via.host;
  if (via.hasRport || host !== srcAddress) out += `;received=${srcAddress}`;
  return out + via.rest;
}
