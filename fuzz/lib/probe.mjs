/**
 * The liveness check between batches: OPTIONS must get 200 and a well-formed INVITE from a loopback
 * caller must get the daemon's reject (4xx-6xx final), over UDP and over a fresh TCP connection.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { sipRequest } from './corpus.mjs';

const LOOPBACK = '127.0.0.1';
let probeNo = 0;

function request(method, port, transport) {
  const n = `${process.pid}.${++probeNo}`;
  const callId = `probe-${n}@127.0.0.1`;
  const branch = `z9hG4bK-probe-${n}`;
  const did = '+15550100001';
  const uri = method === 'OPTIONS' ? `sip:ping@127.0.0.1:${port}` : `sip:${did}@127.0.0.1:${port};user=phone`;
  const common = (m, cseq, toTag = '') => [
    `Via: SIP/2.0/${transport} 127.0.0.1:5999;branch=${branch};rport`,
    'Max-Forwards: 70',
    `From: <sip:+15555550199@127.0.0.1;user=phone>;tag=p${n}`,
    `To: <${method === 'OPTIONS' ? 'sip:ping@127.0.0.1' : `sip:${did}@127.0.0.1;user=phone`}>${toTag}`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} ${m}`,
  ];
  return {
    callId,
    bytes: sipRequest({ method, uri, headers: [...common(method, 1), 'Contact: <sip:probe@127.0.0.1:5999>'] }),
    /** The ACK for a non-2xx final (same branch), given the To tag the daemon chose. */
    ack: (toTag) => sipRequest({ method: 'ACK', uri, headers: common('ACK', 1, toTag) }),
  };
}

/** Status and To tag of the final response for `callId` in `text`, if it is there. */
function finalFor(text, callId) {
  let from = 0;
  for (;;) {
    const at = text.indexOf(callId, from);
    if (at === -1) return undefined;
    const start = text.lastIndexOf('SIP/2.0 ', at);
    const status = start === -1 ? NaN : Number(text.slice(start + 8, start + 11));
    if (status >= 200) {
      const end = text.indexOf('\r\n\r\n', at);
      const head = text.slice(start, end === -1 ? undefined : end);
      const tag = /^(?:To|t)\s*:.*?(;tag=[^;\s>]+)/im.exec(head);
      return { status, toTag: tag ? tag[1] : '' };
    }
    from = at + callId.length;
  }
}

async function udpExchange(port, req, timeoutMs) {
  const sock = dgram.createSocket('udp4');
  let text = '';
  sock.on('message', (m) => { text += m.toString('latin1'); });
  sock.on('error', () => undefined);
  await new Promise((r) => sock.bind(0, LOOPBACK, r));
  try {
    const deadline = Date.now() + timeoutMs;
    for (let wait = 500; Date.now() < deadline; wait = Math.min(wait * 2, 4000)) {
      sock.send(req.bytes, port, LOOPBACK);
      const until = Math.min(deadline, Date.now() + wait);
      while (Date.now() < until) {
        const f = finalFor(text, req.callId);
        if (f) {
          if (f.status >= 300) sock.send(req.ack(f.toTag), port, LOOPBACK);
          return f;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    return undefined;
  } finally {
    await new Promise((r) => setTimeout(r, 20));
    sock.close();
  }
}

async function tcpExchange(port, reqs, timeoutMs) {
  const sock = net.connect({ host: LOOPBACK, port });
  let text = '';
  sock.on('data', (d) => { text += d.toString('latin1'); });
  sock.on('error', () => undefined);
  const out = [];
  try {
    await new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
    for (const req of reqs) {
      sock.write(req.bytes);
      const deadline = Date.now() + timeoutMs;
      let f;
      while (!(f = finalFor(text, req.callId)) && Date.now() < deadline && !sock.destroyed) await new Promise((r) => setTimeout(r, 10));
      out.push(f);
      if (f && f.status >= 300) sock.write(req.ack(f.toTag));
    }
  } catch {
    /* refused: the missing answers say so */
  } finally {
    sock.destroy();
  }
  while (out.length < reqs.length) out.push(undefined);
  return out;
}

/** Runs the four checks; resolves with {ok, failures: [what]}. */
export async function probe(port, timeoutMs = 10_000) {
  const failures = [];
  const okOptions = (f) => f?.status === 200;
  const okInvite = (f) => f !== undefined && f.status >= 400 && f.status < 700;
  const udpOptions = await udpExchange(port, request('OPTIONS', port, 'UDP'), timeoutMs);
  if (!okOptions(udpOptions)) failures.push(`UDP OPTIONS: ${udpOptions ? udpOptions.status : 'no answer'}`);
  const udpInvite = await udpExchange(port, request('INVITE', port, 'UDP'), timeoutMs);
  if (!okInvite(udpInvite)) failures.push(`UDP INVITE: ${udpInvite ? udpInvite.status : 'no answer'}`);
  const [tcpOptions, tcpInvite] = await tcpExchange(port, [request('OPTIONS', port, 'TCP'), request('INVITE', port, 'TCP')], timeoutMs);
  if (!okOptions(tcpOptions)) failures.push(`TCP OPTIONS: ${tcpOptions ? tcpOptions.status : 'no answer'}`);
  if (!okInvite(tcpInvite)) failures.push(`TCP INVITE: ${tcpInvite ? tcpInvite.status : 'no answer'}`);
  return { ok: failures.length === 0, failures };
}
