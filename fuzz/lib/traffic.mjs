/**
 * Sends mutated messages to the daemon, on loopback only: over UDP as datagrams, over TCP with
 * random segmentation, garbage between messages and half-open connections (a message's first bytes
 * and then a reset, a FIN, or nothing at all for a while). Counts what it sent and every response
 * it got back.
 */
import dgram from 'node:dgram';
import net from 'node:net';

const LOOPBACK = '127.0.0.1';
const tick = () => new Promise((r) => setImmediate(r));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Status lines in what came back: one per response. */
const STATUS_LINE = /SIP\/2\.0 \d{3} /g;

export function createCounters() {
  return { udpSent: 0, tcpSent: 0, answered: 0, tcpConnects: 0, tcpClosedByPeer: 0, halfOpen: 0, garbage: 0 };
}

/** A UDP socket that counts every datagram the daemon sends back. */
export async function openUdp(counters) {
  const sock = dgram.createSocket('udp4');
  sock.on('message', () => { counters.answered++; });
  sock.on('error', () => undefined);
  await new Promise((r) => sock.bind(0, LOOPBACK, r));
  return sock;
}

/**
 * `count` mutated datagrams at about `rate` per second (paced in slices of 1 ms so the daemon's
 * receive buffer is not simply overrun: a datagram the kernel drops tests nothing).
 */
export async function sendUdp({ sock, port, count, rate, next, counters }) {
  const perSlice = Math.max(1, Math.round(rate / 1000));
  const started = Date.now();
  for (let sent = 0; sent < count;) {
    for (let i = 0; i < perSlice && sent < count; i++, sent++) {
      sock.send(next(), port, LOOPBACK);
      counters.udpSent++;
    }
    const ahead = started + (sent / rate) * 1000 - Date.now();
    if (ahead > 1) await sleep(ahead);
    else await tick();
  }
}

function connectTcp(port, counters, onData) {
  return new Promise((resolve) => {
    const s = net.connect({ host: LOOPBACK, port });
    counters.tcpConnects++;
    s.setNoDelay(true);
    s.on('data', onData);
    s.on('error', () => undefined);
    s.once('connect', () => resolve(s));
    s.once('close', () => resolve(s));
  });
}

async function write(sock, data) {
  if (sock.destroyed || !sock.writable) return false;
  if (!sock.write(data)) {
    await Promise.race([new Promise((r) => sock.once('drain', r)), new Promise((r) => sock.once('close', r)), sleep(2000)]);
  }
  return !sock.destroyed;
}

/**
 * `count` mutated messages over `lanes` TCP connections (reopened when the daemon closes one). Per
 * message: 70 % written in 1-6 random segments with pauses between some of them, 10 % with
 * garbage before or after, 10 % on a fresh half-open connection, 10 % as a connection opened and
 * abandoned or closed at once. Parked half-open connections are closed at the end of the call.
 */
export async function sendTcp({ port, count, lanes, next, rng, counters }) {
  const onData = (d) => {
    const m = d.toString('latin1').match(STATUS_LINE);
    if (m) counters.answered += m.length;
  };
  const pool = [];
  const parked = [];
  const lane = async (i) => {
    if (!pool[i] || pool[i].destroyed) {
      if (pool[i]) counters.tcpClosedByPeer++;
      pool[i] = await connectTcp(port, counters, onData);
    }
    return pool[i];
  };
  const perLane = Math.ceil(count / lanes);
  await Promise.all(Array.from({ length: lanes }, async (_, li) => {
    for (let n = 0; n < perLane && li * perLane + n < count; n++) {
      const msg = next();
      counters.tcpSent++;
      const p = rng.u32() % 100;
      if (p < 70) {
        const s = await lane(li);
        const segments = rng.chance(0.5) ? 1 : rng.range(2, 6);
        let at = 0;
        for (let k = 1; k <= segments; k++) {
          const end = k === segments ? msg.length : Math.min(msg.length, at + rng.int(msg.length - at + 1));
          if (!(await write(s, msg.subarray(at, end)))) break;
          at = end;
          if (k < segments) {
            if (rng.chance(0.05)) await sleep(rng.range(1, 3));
            else if (rng.chance(0.5)) await tick();
          }
        }
      } else if (p < 80) {
        const s = await lane(li);
        counters.garbage++;
        const junk = rng.bytes(rng.size(2048));
        await write(s, rng.chance(0.5) ? Buffer.concat([junk, msg]) : Buffer.concat([msg, junk]));
      } else if (p < 90) {
        counters.halfOpen++;
        const s = await connectTcp(port, counters, onData);
        await write(s, msg.subarray(0, rng.int(msg.length + 1)));
        const how = rng.int(3);
        if (how === 0) s.resetAndDestroy?.() ?? s.destroy();
        else if (how === 1) s.end();
        else if (parked.length < 64) parked.push(s);
        else s.destroy();
      } else {
        counters.halfOpen++;
        const s = await connectTcp(port, counters, onData);
        if (rng.chance(0.5) && parked.length < 64) parked.push(s);
        else s.destroy();
      }
      if (n % 64 === 63) await tick();
    }
  }));
  for (const s of parked) s.destroy();
  for (const s of pool) s?.destroy();
}
