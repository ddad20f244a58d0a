import dgram from 'node:dgram';
import net from 'node:net';

function tcpPort(host, port) {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(port, host, () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

function udpFree(host, port) {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, host, () => s.close(() => resolve(true)));
  });
}

/**
 * A loopback port free for both TCP and UDP right now (SIP listens on both with one number). Other
 * engineers run daemons on this machine, so fixed ports are not an option; the small race between
 * probing and binding is acceptable for a bench.
 */
export async function freePort(host = '127.0.0.1') {
  for (let attempt = 0; attempt < 50; attempt++) {
    const p = await tcpPort(host, 0);
    if (await udpFree(host, p)) return p;
  }
  throw new Error('no free TCP+UDP port found on loopback');
}
