import { canonicalHeaderName, knownHeaderNameAt } from './header-names.js';
import { hasAt, isTokenChar, isTrimSpace, quotesBalanced } from './sip-chars.js';
import { rareHeaderBit, SipMessage } from './sip-message.js';

/**
 * Why a message could not be used. `bad_request` messages are still answered 400 when they carry a
 * Via to answer along; `version` gets 505; `unparseable` is dropped and counted.
 */
export type ParseProblem = 'bad_request' | 'version' | 'unparseable';

export interface ParseResult {
  msg: SipMessage;
  problem: ParseProblem | undefined;
  /** Human-readable detail for 400 reason / debug log. */
  detail: string;
}

// RFC 3261 token characters for the method name.
const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

/**
 * Parses one SIP message from its latin1 text (one UDP datagram, or one TCP-framed message).
 * Never throws: every defect comes back as a problem so the caller can answer 400 or drop.
 */
export function parseMessage(text: string): ParseResult {
  const msg = new SipMessage();
  const res: ParseResult = { msg, problem: undefined, detail: '' };
  let pos = 0;
  const len = text.length;
  // Leading blank lines (keep-alives, stream padding) are ignored (RFC 3261 §7.5).
  while (pos < len && (text.charCodeAt(pos) === 13 || text.charCodeAt(pos) === 10)) pos++;
  let eol = text.indexOf('\n', pos);
  if (eol === -1) return fail(res, 'unparseable', 'no line end');
  const startLine = text.slice(pos, text.charCodeAt(eol - 1) === 13 ? eol - 1 : eol);
  pos = eol + 1;

  if (hasAt(startLine, 0, 'SIP/')) {
    msg.isRequest = false;
    // Status-Code is exactly three digits (RFC 3261 §25.1); anything else is not a status we know.
    const m = /^SIP\/2\.0 (\d{3})(?: |$)/.exec(startLine);
    msg.status = m ? Number.parseInt(m[1] as string, 10) : Number.NaN;
  } else {
    const sp1 = startLine.indexOf(' ');
    const sp2 = sp1 === -1 ? -1 : startLine.indexOf(' ', sp1 + 1);
    if (sp1 <= 0 || sp2 === -1) return fail(res, 'unparseable', 'malformed request line');
    msg.method = startLine.slice(0, sp1);
    msg.requestUri = startLine.slice(sp1 + 1, sp2);
    const version = startLine.slice(sp2 + 1);
    if (!isToken(msg.method)) return fail(res, 'unparseable', 'malformed method');
    if (msg.requestUri.length === 0 || version.indexOf(' ') !== -1 || msg.requestUri.indexOf(' ') !== -1) {
      res.problem = 'bad_request';
      res.detail = 'malformed request line';
    } else if (version !== 'SIP/2.0' && version.toUpperCase() !== 'SIP/2.0') {
      res.problem = 'version';
      res.detail = 'unsupported SIP version';
    }
  }

  // Header lines up to the first empty line; continuation lines fold into the previous value.
  const names = msg.names;
  const values = msg.values;
  let headerBroken = false;
  for (;;) {
    if (pos >= len) { msg.bodyStart = len; break; }
    eol = text.indexOf('\n', pos);
    const lineEnd = eol === -1 ? len : eol;
    const contentEnd = lineEnd > pos && text.charCodeAt(lineEnd - 1) === 13 ? lineEnd - 1 : lineEnd;
    const next = eol === -1 ? len : eol + 1;
    if (contentEnd === pos) { msg.bodyStart = next; break; }
    // CR is only legal as part of CRLF (RFC 3261 §25.1): a bare one would become a line break,
    // and so a header injection, at the next hop if we echoed the value. Such a message is not
    // answered at all (even a 400 echoes From/To/Call-ID).
    const cr = text.indexOf('\r', pos);
    if (cr !== -1 && cr < contentEnd) return fail(res, 'unparseable', 'bare CR in header');
    const first = text.charCodeAt(pos);
    if (first === 32 || first === 9) {
      const last = values.length - 1;
      if (last < 0) headerBroken = true;
      else values[last] = `${values[last]} ${text.slice(pos, contentEnd).trim()}`.trim();
    } else {
      const colon = text.indexOf(':', pos);
      if (colon === -1 || colon >= contentEnd) headerBroken = true;
      else {
        // Trim by index and match common names in place: one string per value, none per name.
        let ns = pos;
        let ne = colon;
        while (ns < ne && isTrimSpace(text.charCodeAt(ns))) ns++;
        while (ne > ns && isTrimSpace(text.charCodeAt(ne - 1))) ne--;
        let name = knownHeaderNameAt(text, ns, ne);
        if (name === undefined) {
          const rawName = text.slice(ns, ne);
          if (rawName.length === 0 || !TOKEN.test(rawName)) headerBroken = true;
          else name = canonicalHeaderName(rawName);
        }
        if (name !== undefined) {
          let vs = colon + 1;
          let ve = contentEnd;
          while (vs < ve && isTrimSpace(text.charCodeAt(vs))) vs++;
          while (ve > vs && isTrimSpace(text.charCodeAt(ve - 1))) ve--;
          names.push(name);
          values.push(text.slice(vs, ve));
        }
      }
    }
    pos = next;
  }

  let contentLengths = 0;
  let rare = 0;
  for (let i = 0; i < names.length; i++) {
    const v = values[i] as string;
    switch (names[i]) {
      case 'via': msg.via.push(v); break;
      case 'from': if (msg.from === undefined) msg.from = v; else setBad(res, 'duplicate From'); break;
      case 'to': if (msg.to === undefined) msg.to = v; else setBad(res, 'duplicate To'); break;
      case 'call-id': if (msg.callId === '') msg.callId = v; else setBad(res, 'duplicate Call-ID'); break;
      case 'cseq': if (msg.cseq === undefined) msg.cseq = v; else setBad(res, 'duplicate CSeq'); break;
      case 'max-forwards':
        msg.maxForwards = digitsValue(v);
        if (Number.isNaN(msg.maxForwards) || msg.maxForwards > 255) setBad(res, 'bad Max-Forwards');
        break;
      case 'content-length':
        contentLengths++;
        msg.contentLength = digitsValue(v);
        if (Number.isNaN(msg.contentLength) || contentLengths > 1) setBad(res, 'bad Content-Length');
        break;
      case 'user-agent': msg.userAgent = v; break;
      case 'require': case 'privacy': case 'p-asserted-identity': case 'remote-party-id': case 'identity':
        rare |= rareHeaderBit(names[i] as string);
        break;
      default: break;
    }
  }
  msg.rareHeaders = rare;
  if (headerBroken) setBad(res, 'malformed header line');
  if ((msg.from !== undefined && !quotesBalanced(msg.from)) || (msg.to !== undefined && !quotesBalanced(msg.to))) {
    setBad(res, 'unbalanced quotes in From/To');
  }
  if (msg.cseq !== undefined) {
    if (parseCSeq(msg, msg.cseq)) {
      if (msg.cseqNum > 0xffffffff) setBad(res, 'CSeq number too large');
    } else setBad(res, 'bad CSeq');
  }
  if (msg.isRequest) {
    if (msg.via.length === 0) return fail(res, 'unparseable', 'no Via');
    if (msg.from === undefined || msg.to === undefined || msg.callId === '' || msg.cseq === undefined) {
      setBad(res, 'missing mandatory header');
    } else if (msg.cseqMethod !== msg.method && !(msg.method === 'ACK' && msg.cseqMethod === 'INVITE')) {
      setBad(res, 'CSeq method does not match');
    }
  }
  return res;
}

/** TOKEN.test(s) by character codes (the method of every request). */
function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenChar(s.charCodeAt(i))) return false;
  return true;
}

/**
 * The value of an all-digits string, as /^\d+$/ plus Number.parseInt read it, or NaN; by index,
 * since parseInt is a runtime call in V8. Digits past 15 only matter as "too large": capped there.
 */
function digitsValue(v: string): number {
  const len = v.length;
  if (len === 0) return Number.NaN;
  let n = 0;
  for (let i = 0; i < len; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return Number.NaN;
    if (n < 1e15) n = n * 10 + (c - 48);
  }
  return n;
}

/**
 * CSeq as /^(\d{1,10})\s+(\S+)$/ reads it (number, whitespace, method), without the regex's match
 * array; sets cseqNum and cseqMethod and returns true when it matches.
 */
function parseCSeq(msg: SipMessage, v: string): boolean {
  const len = v.length;
  let i = 0;
  let num = 0;
  while (i < len && i < 11) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) break;
    num = num * 10 + (c - 48);
    i++;
  }
  if (i === 0 || i > 10) return false;
  const digitsEnd = i;
  while (i < len && isTrimSpace(v.charCodeAt(i))) i++;
  if (i === digitsEnd || i === len) return false;
  const methodStart = i;
  for (; i < len; i++) if (isTrimSpace(v.charCodeAt(i))) return false;
  msg.cseqNum = num;
  msg.cseqMethod = v.slice(methodStart);
  return true;
}

function setBad(res: ParseResult, detail: string): void {
  if (res.problem === undefined) {
    res.problem = 'bad_request';
    res.detail = detail;
  }
}

function fail(res: ParseResult, problem: ParseProblem, detail: string): ParseResult {
  res.problem = problem;
  res.detail = detail;
  return res;
}
