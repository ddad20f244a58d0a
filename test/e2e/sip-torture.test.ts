/**
 * RFC 4475 torture messages against the real daemon (native engine), over UDP and over TCP.
 *
 * Each transport gets its own daemon: the same INVITE sent over TCP after UDP would otherwise match the
 * UDP server transaction (same branch and sent-by) and be treated as a retransmission.
 *
 * For every message: the answer is one the expectation table allows; an INVITE never gets 1xx/2xx;
 * what the daemon counted (responses, drops) matches what the test socket saw; a message that gets no
 * answer is counted as a drop; and nothing is ever sent to the addresses the messages name in Via
 * (loopback listeners sit there), only back to the sender.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, type DaemonProcess } from '../helpers/daemon-process.js';
import {
  cseqMethod, daemonOutput, header, listenTcpDecoy, optionsStatus, parseResponse, scrapeMetrics, sipCounters, sleep,
  startEdgeDaemon, TcpSipClient, UdpSipClient, type SipCounterSnapshot, type SipResponse, type TcpDecoy,
} from '../helpers/sip-client.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'rfc4475');

// ---------------------------------------------------------------------------------------------------
// The expectation table. An outcome is the statuses of the distinct responses, in order, joined by
// "," ("none" = no response at all). Where RFC 4475 lets an element be liberal (accept) or strict
// (400), both are allowed. Section numbers are RFC 4475's.

type Kind = 'valid' | 'invalid' | 'response';

interface Expectation {
  kind: Kind;
  udp: string[];
  /** Defaults to udp. */
  tcp?: string[];
  why: string;
}

const EXPECT: Record<string, Expectation> = {
  // §3.1.1 Valid messages
  'wsinv.dat': { kind: 'valid', udp: ['481'], why: '§3.1.1.1 short tortuous INVITE: valid; its To carries a tag, so to a UAS it is a request inside a dialog it does not know: 481 (RFC 3261 §12.2.2)' },
  'intmeth.dat': { kind: 'valid', udp: ['501'], why: '§3.1.1.2 valid; the method is unknown, RFC 3261 §8.2.1: 501' },
  'esc01.dat': { kind: 'valid', udp: ['486'], why: '§3.1.1.3 valid use of % escapes: an INVITE like any other' },
  'escnull.dat': { kind: 'valid', udp: ['405'], why: '§3.1.1.4 valid REGISTER with escaped NULs: we are no registrar, 405' },
  'esc02.dat': { kind: 'valid', udp: ['501'], why: '§3.1.1.5 % is no escape in a method: RE%47IST%45R is an unknown method, 501' },
  'lwsdisp.dat': { kind: 'valid', udp: ['200'], why: '§3.1.1.6 valid OPTIONS (no LWS before <): 200' },
  'longreq.dat': { kind: 'valid', udp: ['486'], why: '§3.1.1.7 valid INVITE with long values and 34 Vias: 486' },
  'dblreq.dat': {
    kind: 'valid', udp: ['405'], tcp: ['405,486'],
    why: '§3.1.1.8 valid REGISTER; the octets after Content-Length are discarded on UDP (405 only). On a stream they are the next message: a valid INVITE (486)',
  },
  'semiuri.dat': { kind: 'valid', udp: ['200'], why: '§3.1.1.9 valid OPTIONS (; in the user part): 200' },
  'transports.dat': { kind: 'valid', udp: ['200'], why: '§3.1.1.10 valid OPTIONS with unknown transports in lower Vias: 200' },
  'mpart01.dat': { kind: 'valid', udp: ['405'], why: '§3.1.1.11 valid multipart MESSAGE: a known method we do not serve, 405' },
  'unreason.dat': { kind: 'response', udp: ['none'], why: '§3.1.1.12 a (valid) response: a UAS without client transactions drops it' },
  'noreason.dat': { kind: 'response', udp: ['none'], why: '§3.1.1.13 a (valid) response with empty reason: dropped' },

  // §3.1.2 Invalid messages
  'badinv01.dat': {
    kind: 'invalid', udp: ['400', 'none'],
    why: '§3.1.2.1 extraneous ;/, separators in Via and Contact: invalid, "should respond with 400"; its Via is the broken part, so dropping is allowed too — never 486',
  },
  'clerr.dat': {
    kind: 'invalid', udp: ['400'], tcp: ['none'],
    why: '§3.1.2.2 Content-Length larger than the body: 400 over UDP; on a stream the receiver can only wait (9999 is also past the 8192 cap: the connection is closed)',
  },
  'ncl.dat': {
    kind: 'invalid', udp: ['400'], tcp: ['400', 'none'],
    why: '§3.1.2.3 negative Content-Length: respond with an error (400); over TCP the framing is lost and the connection should be closed',
  },
  'scalar02.dat': { kind: 'invalid', udp: ['400'], why: '§3.1.2.4 CSeq > 2**32-1: "should respond with a 400 Bad Request due to the CSeq error"' },
  'scalarlg.dat': { kind: 'response', udp: ['none'], why: '§3.1.2.5 a response with overlarge scalars: dropped' },
  'quotbal.dat': { kind: 'invalid', udp: ['400'], why: '§3.1.2.6 unterminated quoted string in To: "should respond with 400" — never 486' },
  'ltgtruri.dat': { kind: 'invalid', udp: ['400', '486'], why: '§3.1.2.7 <> around the Request-URI: reject with 400, or be liberal and ignore the brackets' },
  'lwsruri.dat': { kind: 'invalid', udp: ['400'], why: '§3.1.2.8 LWS inside the Request-URI: "should respond with 400" (ignoring it is not recommended)' },
  'lwsstart.dat': { kind: 'invalid', udp: ['400', '486'], why: '§3.1.2.9 several SP in the request line: may be rejected, or the SPs ignored' },
  'trws.dat': { kind: 'invalid', udp: ['400', '200'], why: '§3.1.2.10 SP after the version: may be rejected, or the SPs ignored' },
  'escruri.dat': { kind: 'invalid', udp: ['400', '486'], why: '§3.1.2.11 escaped headers in the Request-URI: 400, or ignore them' },
  'baddate.dat': { kind: 'invalid', udp: ['400', '486'], why: '§3.1.2.12 non-GMT Date: may be rejected; an element that ignores Date may accept' },
  'regbadct.dat': { kind: 'invalid', udp: ['400', '405'], why: '§3.1.2.13 Contact URI with headers but no <>: 400, or liberal (then REGISTER → 405)' },
  'badaspec.dat': { kind: 'invalid', udp: ['400', '200'], why: '§3.1.2.14 spaces in an addr-spec: 400, or ignore the spaces' },
  'baddn.dat': { kind: 'invalid', udp: ['400', '200'], why: '§3.1.2.15 unquoted non-token display names: 400, or infer the quotes' },
  'badvers.dat': {
    kind: 'invalid', udp: ['505', 'none'],
    why: '§3.1.2.16 SIP/7.0: "should respond with 505"; its Via is SIP/7.0 too, so a drop is tolerated (never 200)',
  },
  'mismatch01.dat': { kind: 'invalid', udp: ['400'], why: '§3.1.2.17 CSeq method differs from the request method: "will respond with a 400"' },
  'mismatch02.dat': { kind: 'invalid', udp: ['501', '400'], why: '§3.1.2.18 unknown method with CSeq mismatch: 501 preferred, 400 acceptable' },
  'bigcode.dat': { kind: 'response', udp: ['none'], why: '§3.1.2.19 a response with a 10-digit status code: dropped' },

  // §3.2 Transaction layer semantics
  'badbranch.dat': { kind: 'invalid', udp: ['400', '200'], why: '§3.2.1 branch is only the magic cookie: 400, or fall back to RFC 2543 matching' },

  // §3.3 Application layer semantics
  'insuf.dat': { kind: 'invalid', udp: ['400'], why: '§3.3.1 no Call-ID, From or To: "ordinarily ... a 400 Bad Request"' },
  'unkscm.dat': {
    kind: 'valid', udp: ['416', '200'],
    why: '§3.3.2 well-formed, unknown Request-URI scheme: 416 per RFC; an OPTIONS ping answered 200 is tolerated (README: OPTIONS → 200)',
  },
  'novelsc.dat': { kind: 'valid', udp: ['416', '404', '200'], why: '§3.3.3 atypical scheme (soap.beep): 416 or 404; OPTIONS 200 tolerated' },
  'unksm2.dat': { kind: 'valid', udp: ['405', '400'], why: '§3.3.4 valid; a registrar would 400 the non-SIP AOR, a non-registrar answers REGISTER 405' },
  'bext01.dat': {
    kind: 'valid', udp: ['420', '200'],
    why: '§3.3.5 unsupported Require: RFC 3261 §8.2.2.3 says 420; OPTIONS 200 tolerated (README: OPTIONS → 200)',
  },
  'invut.dat': { kind: 'valid', udp: ['486', '415'], why: '§3.3.6 unknown body type: an endpoint may 415; rejecting the call (486) is equally final' },
  'regaut01.dat': { kind: 'valid', udp: ['405'], why: '§3.3.7 unknown Authorization scheme: "Endpoints choosing not to act as registrars ... 405"' },
  'multi01.dat': { kind: 'invalid', udp: ['400'], why: '§3.3.8 several Call-ID/To/From/CSeq/Max-Forwards: "would respond with a 400"' },
  'mcl01.dat': {
    kind: 'invalid', udp: ['400'], tcp: ['400', 'none'],
    why: '§3.3.9 several Content-Length values: respond with an error; on TCP the framing is lost (connection should close)',
  },
  'bcast.dat': { kind: 'response', udp: ['none'], why: '§3.3.10 a response whose second Via is a broadcast address: dropped, never forwarded' },
  'zeromf.dat': { kind: 'valid', udp: ['200'], why: '§3.3.11 Max-Forwards 0 at an endpoint: process as usual, OPTIONS → 200' },
  'cparam01.dat': { kind: 'valid', udp: ['405'], why: '§3.3.12 valid REGISTER (contact-param): 405' },
  'cparam02.dat': { kind: 'valid', udp: ['405'], why: '§3.3.13 valid REGISTER (URI param in <>): 405' },
  'regescrt.dat': { kind: 'valid', udp: ['405'], why: '§3.3.14 valid REGISTER (escaped header in Contact URI): 405' },
  'sdp01.dat': { kind: 'valid', udp: ['486', '406', '400'], why: '§3.3.15 Accept without SDP: 406 or 400 allowed; a bodiless 486 honours Accept as well' },

  // §3.4 Backward compatibility
  'inv2543.dat': {
    kind: 'valid', udp: ['486'], tcp: ['486', '400'],
    why: '§3.4.1 RFC 2543 INVITE (no branch, no From tag, no Content-Length, no Max-Forwards): accept, 486. On TCP a missing Content-Length is invalid (RFC 3261 §20.14), so 400 is allowed there',
  },

  // Not one of §3's messages: request line without SIP-Version, a header line without colon, no Via.
  'test.dat': { kind: 'invalid', udp: ['none'], why: 'no SIP-Version and no Via: nothing to answer along; dropped and counted' },
};

const FILES = readdirSync(FIXTURES).filter((f) => f.endsWith('.dat')).sort();

function fixture(name: string): Buffer {
  return readFileSync(join(FIXTURES, name));
}

/** The request method of a fixture ('' for responses). */
function methodOf(data: Buffer): string {
  const line = data.toString('latin1').split(/\r?\n/, 1)[0] ?? '';
  return line.startsWith('SIP/') ? '' : (line.split(' ')[0] ?? '');
}

// ---------------------------------------------------------------------------------------------------
// Listeners on every loopback address the fixtures name: a UAS that answered to a Via host, a
// received/maddr or an SDP address instead of the request's source would be caught here.

interface Sniffers {
  udp: UdpSipClient[];
  tcp: TcpDecoy[];
  bound: string[];
  /** Connections made to any of the TCP listeners. */
  tcpConnections(): number;
  close(): Promise<void>;
}

async function startSniffers(): Promise<Sniffers> {
  const targets = new Set<string>();
  for (const f of FILES) {
    const text = fixture(f).toString('latin1');
    for (const m of text.matchAll(/\b(127\.\d{1,3}\.\d{1,3}\.\d{1,3})(?:\s*:\s*(\d{1,5}))?/g)) {
      targets.add(`${m[1]}:${m[2] ?? '5060'}`);
      targets.add(`${m[1]}:5060`);
    }
  }
  const s: Sniffers = {
    udp: [], tcp: [], bound: [],
    tcpConnections: () => s.tcp.reduce((n, t) => n + t.connections, 0),
    async close() {
      for (const u of s.udp) await u.close();
      for (const t of s.tcp) await t.close();
    },
  };
  for (const t of targets) {
    const [host, portText] = t.split(':') as [string, string];
    const port = Number(portText);
    // 127.0.0.1 is where the test sockets and the daemon live; another process may hold a port there.
    try {
      s.udp.push(await UdpSipClient.open(host, port));
      s.bound.push(`udp:${t}`);
    } catch {
      /* address in use or not bindable: the packet count below still covers it */
    }
    try {
      s.tcp.push(await listenTcpDecoy(host, port));
      s.bound.push(`tcp:${t}`);
    } catch {
      /* as above */
    }
  }
  return s;
}

// ---------------------------------------------------------------------------------------------------

interface Observation {
  outcome: string;
  responses: SipResponse[];
  before: SipCounterSnapshot;
  after: SipCounterSnapshot;
}

function assertCommon(file: string, transport: 'udp' | 'tcp', obs: Observation, allowed: string[]): void {
  const exp = EXPECT[file] as Expectation;
  const method = methodOf(fixture(file));
  expect(allowed, `${file} over ${transport}: ${exp.why}`).toContain(obs.outcome);
  for (const r of obs.responses) {
    // Never a provisional or success answer to an INVITE (the daemon never connects a call).
    if (cseqMethod(r) === 'INVITE' || (method === 'INVITE' && obs.responses.length === 1)) {
      expect(r.status, `${file}: ${r.raw.toString('latin1')}`).toBeGreaterThanOrEqual(300);
    }
    // A final response to a request without To-tag carries one (RFC 3261 §8.2.6.2).
    const to = header(r, 'to');
    if (to !== undefined && r.status >= 200) expect(to, `${file}: To of ${r.status}`).toMatch(/;\s*tag\s*=/i);
    expect(header(r, 'content-length'), `${file}: Content-Length of ${r.status}`).toBe('0');
  }
  if (obs.outcome === 'none') {
    // Silence is always accounted for.
    expect(obs.after.drops - obs.before.drops, `${file} over ${transport}: no answer, so a drop must be counted`).toBeGreaterThanOrEqual(1);
  }
  if (exp.kind === 'response') {
    const d = (obs.after.dropsByReason.get('response') ?? 0) - (obs.before.dropsByReason.get('response') ?? 0);
    expect(d, `${file}: a response is dropped with reason="response"`).toBe(1);
  }
}

describe('RFC 4475 torture messages', () => {
  let sniffers: Sniffers;

  beforeAll(async () => {
    sniffers = await startSniffers();
  });

  afterAll(async () => {
    await sniffers?.close();
  });

  it('has an expectation for every fixture file, and a fixture for every expectation', () => {
    expect(FILES.length).toBeGreaterThanOrEqual(50);
    expect([...FILES].sort()).toEqual(Object.keys(EXPECT).sort());
  });

  describe('over UDP', () => {
    let daemon: DaemonProcess;
    const clients: UdpSipClient[] = [];

    beforeAll(async () => {
      daemon = await startEdgeDaemon();
    });

    afterAll(async () => {
      for (const c of clients) await c.close();
      await daemon?.stop('SIGKILL');
    });

    it.each(FILES)('%s', async (file) => {
      const exp = EXPECT[file] as Expectation;
      const client = await UdpSipClient.open();
      clients.push(client);
      const before = sipCounters(await scrapeMetrics(daemon.baseUrl), 'udp');
      await client.send(fixture(file), daemon.sipPort);
      if (exp.udp.includes('none')) await sleep(250);
      else await client.waitFor(1, 2000);
      await client.settle(60, 1000);
      const after = sipCounters(await scrapeMetrics(daemon.baseUrl), 'udp');
      const responses = client.distinctResponses();
      const outcome = responses.length === 0 ? 'none' : responses.map((r) => r.status).join(',');

      // Every datagram came from the daemon's SIP socket and is a SIP response.
      for (const d of client.received) {
        expect(`${d.address}:${d.port}`).toBe(`127.0.0.1:${daemon.sipPort}`);
        expect(parseResponse(d.data), d.data.toString('latin1')).toBeDefined();
      }
      // What the daemon counted as first responses is what arrived here.
      const firstResponses = after.responses - after.responseRetransmissions - (before.responses - before.responseRetransmissions);
      expect(firstResponses, `${file}: responses counted vs received`).toBe(responses.length);
      assertCommon(file, 'udp', { outcome, responses, before, after }, exp.udp);

      // The top Via of the answer says where the request really came from (RFC 3261 §18.2.1, RFC 3581).
      for (const r of responses) {
        const via = header(r, 'via') ?? '';
        if (!/\b127\.0\.0\.1:?/.test(via.split(';')[0] ?? '') || /;\s*rport/i.test(via)) {
          expect(via, `${file}: top Via of ${r.status}`).toMatch(/;received=127\.0\.0\.1\b/);
        }
        if (file === 'mpart01.dat') expect(via).toMatch(new RegExp(`;rport=${client.port}(;|$)`));
      }
    });

    it('sends nothing but the counted responses, all to the test sockets, none to Via/SDP addresses', async () => {
      const m1 = sipCounters(await scrapeMetrics(daemon.baseUrl), 'udp');
      await sleep(150);
      const received = clients.reduce((n, c) => n + c.received.length, 0);
      const m2 = sipCounters(await scrapeMetrics(daemon.baseUrl), 'udp');
      // Timer G keeps resending 486s to the test sockets; every counted datagram arrived, nothing else did.
      expect(received).toBeGreaterThanOrEqual(m1.responses);
      expect(received).toBeLessThanOrEqual(m2.responses);
      for (const s of sniffers.udp) expect(s.received, `sniffer ${s.address}:${s.port}`).toEqual([]);
      expect(sniffers.tcpConnections()).toBe(0);
    });

    it('is still alive and answers OPTIONS over UDP and /healthz afterwards', async () => {
      expect(daemon.running(), daemonOutput(daemon)).toBe(true);
      expect(await optionsStatus(daemon.sipPort, 'udp')).toBe(200);
      expect((await fetch(`${daemon.baseUrl}/healthz`)).status).toBe(200);
    });
  });

  describe('over TCP', () => {
    let daemon: DaemonProcess;

    beforeAll(async () => {
      daemon = await startEdgeDaemon();
    });

    afterAll(async () => {
      await daemon?.stop('SIGKILL');
    });

    it.each(FILES)('%s', async (file) => {
      const exp = EXPECT[file] as Expectation;
      const allowed = exp.tcp ?? exp.udp;
      const before = sipCounters(await scrapeMetrics(daemon.baseUrl), 'tcp');
      const conn = await TcpSipClient.connect(daemon.sipPort);
      try {
        await conn.write(fixture(file));
        // Where silence is allowed, give an answer time to show up; otherwise wait for the shortest allowed one.
        if (allowed.includes('none')) await sleep(250);
        else await conn.waitFor(Math.min(...allowed.map((o) => o.split(',').length)), 2000);
        await conn.settle(60, 1000);
        const after = sipCounters(await scrapeMetrics(daemon.baseUrl), 'tcp');
        const responses = conn.responses();
        expect(responses.length, `${file}: everything on the connection is a SIP response`).toBe(conn.messages.length);
        const outcome = responses.length === 0 ? 'none' : responses.map((r) => r.status).join(',');
        expect(after.responses - before.responses, `${file}: responses counted vs received`).toBe(responses.length);
        assertCommon(file, 'tcp', { outcome, responses, before, after }, allowed);
        // The connection is only ever closed for a message past the size cap.
        const oversize = (after.dropsByReason.get('oversize') ?? 0) - (before.dropsByReason.get('oversize') ?? 0);
        expect(conn.closedByPeer, `${file}: closed by the daemon iff oversize`).toBe(oversize > 0);
        for (const r of responses) {
          if (file === 'mpart01.dat') expect(header(r, 'via')).toMatch(new RegExp(`;rport=${conn.localPort};received=127\\.0\\.0\\.1`));
        }
      } finally {
        conn.close();
      }
    });

    it('never connected or sent to a Via/SDP address', async () => {
      for (const s of sniffers.udp) expect(s.received, `sniffer ${s.address}:${s.port}`).toEqual([]);
      expect(sniffers.tcpConnections()).toBe(0);
    });

    it('is still alive and answers OPTIONS over TCP and /healthz afterwards', async () => {
      expect(daemon.running(), daemonOutput(daemon)).toBe(true);
      expect(await optionsStatus(daemon.sipPort, 'tcp')).toBe(200);
      expect((await fetch(`${daemon.baseUrl}/healthz`)).status).toBe(200);
    });
  });
});
