import { REASON_PHRASES } from './reason-phrases.js';
import type { SipMessage } from './sip-message.js';
import { hasTag } from './has-tag.js';
import { rewriteTopVia, type TopVia } from './top-via.js';

export interface ResponseOptions {
  code: number;
  /** Tag added to To when the request has none. */
  toTag: string;
  /** Preformatted extra header lines, each ending in CRLF. */
  extraHeaders: string;
  /** Preformatted "Server: ...\r\n" or empty. */
  serverLine: string;
}

/**
 * A response as latin1 text: Via (top one rewritten for received/rport), From, To (+tag), Call-ID
 * and CSeq copied from the request as received, then the extra headers, no body.
 */
export function buildResponse(req: SipMessage, topVia: TopVia, opts: ResponseOptions): string {
  const src = req.source;
  let out = `SIP/2.0 ${opts.code} ${REASON_PHRASES[opts.code] ?? 'Unknown'}\r\nVia: ${rewriteTopVia(topVia, src.address, src.port)}\r\n`;
  for (let i = 1; i < req.via.length; i++) out += `Via: ${req.via[i]}\r\n`;
  if (req.from !== undefined) out += `From: ${req.from}\r\n`;
  if (req.to !== undefined) {
    out += hasTag(req.to) || opts.code === 100 ? `To: ${req.to}\r\n` : `To: ${req.to};tag=${opts.toTag}\r\n`;
  }
  if (req.callId !== '') out += `Call-ID: ${req.callId}\r\n`;
  if (req.cseq !== undefined) out += `CSeq: ${req.cseq}\r\n`;
  return `${out}${opts.extraHeaders}${opts.serverLine}Content-Length: 0\r\n\r\n`;
}
