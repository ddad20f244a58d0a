#!/usr/bin/env node
// The bench's yardstick: the least a Node.js process can do to reject an INVITE. Stateless (no
// transactions, no timers, no ACK matching, no metrics): read the few headers a 486 must echo,
// write the 486, forget. ringproof's CPU per call is judged against this, measured in the same run.
// Usage: node bench/reference-responder.mjs --host 127.0.0.1 --port 5070 [--tcp]
import dgram from 'node:dgram';
import net from 'node:net';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const host = opt('--host', '127.0.0.1');
const port = Number(opt('--port', '5070'));
const withTcp = args.includes('--tcp');

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
function reject(head) {
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

const udp = dgram.createSocket('udp4');
udp.on('message', (msg, rinfo) => {
  const text = msg.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const res = reject(end < 0 ? text : text.slice(0, end));
  if (res !== null) udp.send(res, rinfo.port, rinfo.address);
});
udp.on('error', (err) => {
  console.error(`reference-responder: udp: ${err.message}`);
  process.exit(1);
});

// TCP: frame by the blank line plus Content-Length, so `--transport tcp` compares like with like.
function onConnection(sock) {
  let buf = '';
  sock.setNoDelay(true);
  sock.on('data', (chunk) => {
    buf += chunk.toString('latin1');
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) break;
      const head = buf.slice(0, end);
      const m = /\r\n(?:content-length|l)\s*:\s*(\d+)/i.exec(head);
      const total = end + 4 + (m ? Number(m[1]) : 0);
      if (buf.length < total) break;
      buf = buf.slice(total);
      const res = reject(head.replace(/^(\r\n)+/, ''));
      if (res !== null) sock.write(res, 'latin1');
    }
  });
  sock.on('error', () => sock.destroy());
}

udp.bind(port, host, () => {
  if (!withTcp) {
    console.log(JSON.stringify({ ready: true, udp: udp.address().port }));
    return;
  }
  const server = net.createServer(onConnection);
  server.on('error', (err) => {
    console.error(`reference-responder: tcp: ${err.message}`);
    process.exit(1);
  });
  server.listen(port, host, () => console.log(JSON.stringify({ ready: true, udp: udp.address().port, tcp: server.address().port })));
});

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
