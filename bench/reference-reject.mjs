// The reference responder's whole per-message logic (bench/reference-responder.mjs binds it to
// sockets): read the few headers a 486 must echo, write the 486, forget. Kept apart so that
// bench/hot-path.mjs can time it in-process against ringproof's own per-message path.

// Header names (long and compact form) that a response copies from its request (RFC 3261 §8.2.6.2).
const ECHO = new Map([['via', 'Via'], ['v', 'Via'], ['from', 'From'], ['f', 'From'], ['to', 'To'], ['t', 'To'],
  ['call-id', 'Call-ID'], ['i', 'Call-ID'], ['cseq', 'CSeq']]);

// A tag derived from the Call-ID (FNV-1a), so a retransmitted INVITE gets the same To-tag without any state.
function tagOf(callId) {
  let h = 0x811c9dc5;
  for (let i = 0; i < callId.length; i++) h = Math.imul(h ^ callId.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16);
}

/** Returns the 486 for an INVITE head (text up to the blank line), or null for anything else. */
export function reject(head) {
  if (!head.startsWith('INVITE ')) return null; // ACK, CANCEL, ...: ignored
  const lines = head.split('\r\n');
  let out = 'SIP/2.0 486 Busy Here\r\n';
  let to = null;
  let callId = '';
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = ECHO.get(line.slice(0, colon).trim().toLowerCase());
    if (name === undefined) continue;
    const value = line.slice(colon + 1).trim();
    if (name === 'To') to = value;
    else out += `${name}: ${value}\r\n`;
    if (name === 'Call-ID') callId = value;
  }
  if (to === null) return null;
  if (!/;\s*tag=/i.test(to)) to += `;tag=${tagOf(callId)}`;
  // The Reason line ringproof sends too (RFC 3326), and that the shared SIPp scenarios check for.
  return `${out}To: ${to}\r\nReason: Q.850;cause=17;text="User busy"\r\nServer: reference-responder\r\nContent-Length: 0\r\n\r\n`;
}

/** A datagram's 486 as text, or null for anything that is not an INVITE. */
export function rejectDatagram(msg) {
  const text = msg.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  return reject(end < 0 ? text : text.slice(0, end));
}
