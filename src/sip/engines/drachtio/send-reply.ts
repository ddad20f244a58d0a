import type { SrfResponse } from './srf-seam.js';

/**
 * Headers drachtio-srf copies from the request into every response. drachtio-server completes a
 * response from its own copy of the request, byte-exact, so sending them back is useless at best; at
 * worst it is fatal: srf decoded the request as UTF-8, so a Call-ID of invalid UTF-8 comes back with
 * every bad byte turned into a 3-byte U+FFFD — a 6.6 KB Call-ID grows to ~20 KB, past drachtio-server's
 * 12,228-byte read buffer, and the connection wedges. They also carry a mangled Call-ID into the reply.
 */
const ECHOED = ['call-id', 'cseq', 'from', 'to'];

/** Status line, uuid, "|sip|", transaction id and separators around the SIP text. */
const FRAME_OVERHEAD_BYTES = 160;

export type ReplyOutcome = 'sent' | 'unframeable' | 'failed';

/** Strips the echoed headers, checks the frame size, sends. Never throws. */
export function sendReply(
  res: SrfResponse,
  code: number,
  headers: Record<string, string>,
  maxFrameBytes: number,
): ReplyOutcome {
  try {
    const own = res.msg.headers;
    for (const name of ECHOED) delete own[name];
    let bytes = FRAME_OVERHEAD_BYTES;
    for (const [k, v] of Object.entries(own)) bytes += Buffer.byteLength(k) + Buffer.byteLength(String(v)) + 4;
    for (const [k, v] of Object.entries(headers)) bytes += Buffer.byteLength(k) + Buffer.byteLength(v) + 4;
    if (bytes > maxFrameBytes) return 'unframeable';
    res.send(code, { headers });
    return 'sent';
  } catch {
    return 'failed';
  }
}
