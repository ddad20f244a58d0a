import { knownHeaderNameAt } from './header-names.js';
import { hasAt, isTokenChar, isTrimSpace, quotesBalanced } from './sip-chars.js';
import { plainViaKey } from './top-via.js';

/**
 * Half of all datagrams under load are the ACKs for our rejects. An ACK is never answered, so all
 * the full parse gives it is the transaction key; this reads that key straight from the text, with
 * no SipMessage, header arrays or per-header strings.
 *
 * It answers only for the plain case and returns undefined for everything else, which then takes the
 * full path (parseMessage + parseTopVia + transactionKey). When it does answer, the full path would
 * have found the message a well-formed ACK (no parse problem at all) with this very key, so the
 * caller may act on it exactly as the full path would (the tx lookup, counters, confirm). Plain means:
 * no leading blank lines, CRLF line ends, "ACK <uri> SIP/2.0", no folded lines, every header name a
 * token, From/To/Call-ID/CSeq present once each and valid, Max-Forwards/Content-Length digits, and a
 * top Via "SIP/2.0/<transport> <host>[:<port>];params" with no whitespace inside host or parameters,
 * no comma or quote, not an IPv6 reference, and a branch with the RFC 3261 cookie.
 */
export function fastAckKey(text: string): string | undefined {
  const len = text.length;
  if (len < 8 || text.charCodeAt(0) !== 65 || text.charCodeAt(1) !== 67 || text.charCodeAt(2) !== 75 || text.charCodeAt(3) !== 32) {
    return undefined;
  }
  // Request line: "ACK " uri " SIP/2.0" CRLF, the URI non-empty and without spaces.
  const eol = text.indexOf('\n', 4);
  if (eol === -1 || text.charCodeAt(eol - 1) !== 13) return undefined;
  const lineEnd = eol - 1;
  const sp2 = text.indexOf(' ', 4);
  if (sp2 <= 4 || sp2 + 8 !== lineEnd || !hasAt(text, sp2, ' SIP/2.0')) return undefined;

  let viaStart = -1;
  let viaEnd = -1;
  let seenFrom = false;
  let seenTo = false;
  let seenCallId = false;
  let seenCSeq = false;
  let contentLengths = 0;
  let pos = eol + 1;
  for (;;) {
    if (pos >= len) return undefined; // no blank line
    const nl = text.indexOf('\n', pos);
    if (nl === -1 || nl === pos || text.charCodeAt(nl - 1) !== 13) return undefined;
    const contentEnd = nl - 1;
    if (contentEnd === pos) break; // the blank line: the body does not matter for an ACK
    // A bare CR anywhere in the line, or a folded line: the full path decides.
    if (text.indexOf('\r', pos) < contentEnd) return undefined;
    const first = text.charCodeAt(pos);
    if (first === 32 || first === 9) return undefined;
    const colon = text.indexOf(':', pos);
    if (colon === -1 || colon >= contentEnd) return undefined;
    let ns = pos;
    let ne = colon;
    while (ns < ne && isTrimSpace(text.charCodeAt(ns))) ns++;
    while (ne > ns && isTrimSpace(text.charCodeAt(ne - 1))) ne--;
    if (ns === ne) return undefined;
    let vs = colon + 1;
    let ve = contentEnd;
    while (vs < ve && isTrimSpace(text.charCodeAt(vs))) vs++;
    while (ve > vs && isTrimSpace(text.charCodeAt(ve - 1))) ve--;
    const name = headerAt(text, ns, ne);
    // A name that is not a token makes the full parser call the message broken.
    if (name === undefined) return undefined;
    switch (name) {
      case 'via':
        if (viaStart === -1) {
          viaStart = vs;
          viaEnd = ve;
        }
        break;
      case 'from':
        if (seenFrom || !quotesBalanced(text, vs, ve)) return undefined;
        seenFrom = true;
        break;
      case 'to':
        if (seenTo || !quotesBalanced(text, vs, ve)) return undefined;
        seenTo = true;
        break;
      case 'call-id':
        if (seenCallId || vs === ve) return undefined;
        seenCallId = true;
        break;
      case 'cseq':
        if (seenCSeq || !ackCSeq(text, vs, ve)) return undefined;
        seenCSeq = true;
        break;
      case 'max-forwards':
        if (digitsValue(text, vs, ve) > 255) return undefined;
        break;
      case 'content-length':
        if (++contentLengths > 1 || digitsValue(text, vs, ve) > 0xffffffff) return undefined;
        break;
      default:
        break;
    }
    pos = nl + 1;
  }
  if (viaStart === -1 || !seenFrom || !seenTo || !seenCallId || !seenCSeq) return undefined;
  // Only looked up (an ACK opens nothing): not detached from the datagram's text.
  return plainViaKey(text, viaStart, viaEnd, false);
}

/** CSeq of an ACK as the full parser accepts it: 1-10 digits <= 2^32-1, whitespace, ACK or INVITE. */
function ackCSeq(text: string, start: number, end: number): boolean {
  let i = start;
  let num = 0;
  while (i < end && i - start < 11) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    num = num * 10 + (c - 48);
    i++;
  }
  const digits = i - start;
  if (digits === 0 || digits > 10 || num > 0xffffffff) return false;
  const digitsEnd = i;
  while (i < end && isTrimSpace(text.charCodeAt(i))) i++;
  if (i === digitsEnd) return false;
  const m = end - i;
  if (m === 3) return hasAt(text, i, 'ACK');
  if (m === 6) return hasAt(text, i, 'INVITE');
  return false;
}

/** The value of an all-digits text[start, end) (capped), or Infinity when empty or not digits. */
function digitsValue(text: string, start: number, end: number): number {
  if (start === end) return Number.POSITIVE_INFINITY;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return Number.POSITIVE_INFINITY;
    if (n < 1e12) n = n * 10 + (c - 48);
  }
  return n;
}

/**
 * The canonical name of the header name text[start, end) (see knownHeaderNameAt), OTHER for any other
 * token, undefined for a name that is not a token (the full parser would call the message broken).
 */
function headerAt(text: string, start: number, end: number): string | undefined {
  const known = knownHeaderNameAt(text, start, end);
  if (known !== undefined) return known;
  for (let i = start; i < end; i++) if (!isTokenChar(text.charCodeAt(i))) return undefined;
  return OTHER;
}

const OTHER = '';
