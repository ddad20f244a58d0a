#!/usr/bin/env node
// The bench's yardstick: the least a Node.js process can do to reject an INVITE. Stateless (no
// transactions, no timers, no ACK matching, no metrics): read the few headers a 486 must echo,
// write the 486, forget. ringproof's CPU per call is judged against this, measured in the same run.
// Usage: node bench/reference-responder.mjs --host 127.0.0.1 --port 5070 [--tcp]
import dgram from 'node:dgram';
import net from 'node:net';
import { reject, rejectDatagram } from './reference-reject.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const host = opt('--host', '127.0.0.1');
const port = Number(opt('--port', '5070'));
const withTcp = args.includes('--tcp');

const udp = dgram.createSocket('udp4');
udp.on('message', (msg, rinfo) => {
  const res = rejectDatagram(msg);
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
