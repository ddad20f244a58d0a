// A small SIP UAC over UDP for the bench's own calls: the paced legitimate verifications that run
// through a flood, and the readiness probe of a target. One INVITE per call, retransmitted on RFC 3261
// timer A until a response, the non-2xx ACK on the final response (again for a retransmitted one).
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';

/** Epoch ms with sub-ms resolution, on the same footing as the webhook receiver's and the daemon's stamps. */
export const nowMs = () => performance.timeOrigin + performance.now();
const T1_MS = 500;
/** How long an ACK is kept to answer a retransmitted final response (the UAS's timer H is 32 s; ringproof stops at 64·T1). */
const ACK_KEEP_MS = 32_000;

const header = (text, long, compact) => {
  const m = new RegExp(`^(?:${long}|${compact})[ \\t]*:[ \\t]*(.*)$`, 'im').exec(text);
  return m ? m[1].trim() : undefined;
};

/**
 * Opens a UDP socket on 127.0.0.1 (any port). call() places one call and resolves with
 * {status, sentAt, finalAt, retransmits} (status 0: no final response within timeoutMs).
 */
export async function createUac({ host = '127.0.0.1' } = {}) {
  const sock = dgram.createSocket('udp4');
  await new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, host, resolve);
  });
  const localPort = sock.address().port;
  /** Call-ID → the call in progress */
  const pending = new Map();
  /** Call-ID → {ack, until}: answered calls, to re-ACK a retransmitted final response. */
  const answered = new Map();
  let sweepAt = Date.now();

  sock.on('message', (msg, rinfo) => {
    const text = msg.toString('latin1');
    const m = /^SIP\/2\.0 (\d{3})/.exec(text);
    if (!m) return;
    const status = Number(m[1]);
    const callId = header(text, 'call-id', 'i');
    if (callId === undefined) return;
    const c = pending.get(callId);
    if (!c) {
      const done = answered.get(callId);
      if (done && status >= 200) sock.send(done.ack, rinfo.port, rinfo.address);
      return;
    }
    // A provisional response stops timer A; the call then waits for its final response.
    clearTimeout(c.timer);
    if (status < 200) return;
    const finalAt = nowMs();
    const ack = `ACK ${c.ruri} SIP/2.0\r\nVia: ${c.via}\r\nMax-Forwards: 70\r\nFrom: ${c.from}\r\nTo: ${header(text, 'to', 't') ?? c.to}\r\nCall-ID: ${callId}\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n`;
    sock.send(ack, rinfo.port, rinfo.address);
    pending.delete(callId);
    clearTimeout(c.deadline);
    answered.set(callId, { ack, until: Date.now() + ACK_KEEP_MS });
    if (Date.now() - sweepAt > 1000) {
      sweepAt = Date.now();
      for (const [id, a] of answered) if (a.until < sweepAt) answered.delete(id);
    }
    c.resolve({ status, sentAt: c.sentAt, finalAt, retransmits: c.retransmits });
  });

  return {
    localPort,
    /** One call from `cli` to `did` at targetHost:targetPort. */
    call({ cli, did, targetHost = '127.0.0.1', targetPort, timeoutMs = 8000 }) {
      const id = randomBytes(9).toString('hex');
      const callId = `${id}@ringproof-bench`;
      const ruri = `sip:${did}@${targetHost}:${targetPort};user=phone`;
      const via = `SIP/2.0/UDP ${host}:${localPort};branch=z9hG4bK${id};rport`;
      const from = `<sip:${cli}@${host}:${localPort};user=phone>;tag=${id.slice(0, 10)}`;
      const to = `<${ruri}>`;
      const invite =
        `INVITE ${ruri} SIP/2.0\r\nVia: ${via}\r\nMax-Forwards: 70\r\nFrom: ${from}\r\nTo: ${to}\r\nCall-ID: ${callId}\r\nCSeq: 1 INVITE\r\n` +
        `Contact: <sip:${cli}@${host}:${localPort}>\r\nUser-Agent: ringproof-bench-legit\r\nContent-Length: 0\r\n\r\n`;
      return new Promise((resolve) => {
        const c = { ruri, via, from, to, resolve, retransmits: 0, sentAt: nowMs(), timer: undefined, deadline: undefined };
        const send = (interval) => {
          sock.send(invite, targetPort, targetHost);
          c.timer = setTimeout(() => {
            c.retransmits++;
            send(Math.min(interval * 2, 4000));
          }, interval);
        };
        c.deadline = setTimeout(() => {
          clearTimeout(c.timer);
          pending.delete(callId);
          resolve({ status: 0, sentAt: c.sentAt, finalAt: NaN, retransmits: c.retransmits });
        }, timeoutMs);
        pending.set(callId, c);
        send(T1_MS);
      });
    },
    close: () => new Promise((resolve) => sock.close(resolve)),
  };
}
