import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import type { OutboundConfig, OutboundTrunkConfig } from '../../src/config/config-types.js';
import { FLASH_CLI, FLASH_TO, firstInviteTimes, flashOutbound, flashProxiedTrunk, flashTrunk, listeningSocket, mostInWindow, sippDump, useFlashCarriers, waitFor } from '../helpers/flash-uac-rig.js';
import { NativeUac, type FlashCallEvent } from '../../src/sip/uac/index.js';
import { discardLogger } from '../helpers/log-capture.js';
import { freePort } from '../helpers/free-port.js';
import { callMessages, ladder, scenarioVariant } from '../helpers/sipp-uas.js';

/**
 * The native UAC against SIPp playing the carrier and the phone (sipp-scenarios/uas-flash-*.xml):
 * the SIP on the wire (SIPp's message trace), the outcome, and the events of each flash call.
 */
const SIP = { t1Ms: 100, t2Ms: 400, maxMessageBytes: 8192 };
const TO = FLASH_TO;
const CLI = FLASH_CLI;
const trunk = flashTrunk;
const outbound = flashOutbound;

const { carrier: uas, track } = useFlashCarriers(15_000);

async function uacFor(trunks: OutboundTrunkConfig[], extra: Partial<OutboundConfig> = {}, sip: Partial<typeof SIP> = {}): Promise<NativeUac> {
  const uac = new NativeUac(outbound(trunks, extra), { ...SIP, ...sip }, discardLogger('silent'));
  await uac.start();
  track(uac);
  return uac;
}

describe.each(['udp', 'tcp'] as const)('flash call over %s', (transport) => {
  it.each(['180 Ringing', '183 Session Progress'])('%s, our CANCEL after the minimum ring, 487, ACK on the INVITE branch: rang', async (ring) => {
    const carrier = await uas(scenarioVariant('uas-flash-ring.xml', { '180 Ringing': ring }), transport);
    const uac = await uacFor([trunk('carrier-a', carrier.port, transport)]);
    const events: FlashCallEvent[] = [];
    const result = await uac.place({ to: TO, cli: CLI, trunks: ['carrier-a'], onEvent: (e) => events.push(e) });
    const sipp = await carrier.done;
    expect(sipp.exitCode, sippDump(sipp)).toBe(0);
    expect(result.outcome).toBe('rang');
    expect(result.failureClass).toBeUndefined();
    expect(result.cancelConfirmed).toBe(true);
    expect(result.trunk).toBe('carrier-a');
    const a = result.attempts[0]!;
    expect(result.attempts).toHaveLength(1);
    expect(a.statuses).toEqual([100, Number(ring.slice(0, 3)), 487]);
    expect(a.finalStatus).toBe(487);
    expect(a.ringMs).toBeGreaterThanOrEqual(190);
    expect(a.postDialDelayMs).toBeGreaterThanOrEqual(0);
    expect(events.map((e) => e.type)).toEqual(['placed', 'ringing']);

    const call = callMessages(sipp.wire, a.callId);
    expect(ladder(call)).toEqual(['in INVITE', 'out 100 INVITE', `out ${ring.slice(0, 3)} INVITE`, 'in CANCEL', 'out 200 CANCEL', 'out 487 INVITE', 'in ACK']);
    const [invite, , ringing, cancel, , , ack] = call;
    expect(cancel!.branch).toBe(invite!.branch);
    expect(ack!.branch).toBe(invite!.branch);
    expect(cancel!.cseq).toBe('1 CANCEL');
    expect(ack!.cseq).toBe('1 ACK');
    expect(cancel!.text.split('\n')[0]).toBe(invite!.text.split('\n')[0]!.replace('INVITE', 'CANCEL'));
    expect(cancel!.header('From')).toBe(invite!.header('From'));
    expect(cancel!.header('To')).toBe(invite!.header('To'));
    // Never before the minimum ring: our CANCEL left at least minRingMs after the ring (SIPp's clock).
    expect(cancel!.at - ringing!.at).toBeGreaterThanOrEqual(190);
    expect(invite!.header('From')).toMatch(new RegExp(`^<sip:\\${CLI}@ringproof\\.test;user=phone>;tag=`));
    expect(invite!.header('P-Asserted-Identity')).toBe(`<sip:${CLI}@ringproof.test;user=phone>`);
    expect(invite!.text.split('\n')[0]).toBe(`INVITE sip:${TO}@127.0.0.1:${carrier.port}${transport === 'tcp' ? ';transport=tcp' : ''};user=phone SIP/2.0`);
    expect(invite!.header('Content-Type')).toBe('application/sdp');
    expect(ack!.header('To')).toMatch(/;tag=/);
  });

  it.each([
    ['486 Busy Here', 'busy', 'Q.850;cause=17;text="User busy"', 17],
    ['404 Not Found', 'invalid_number', 'Q.850;cause=1;text="Unallocated number"', 1],
    ['603 Decline', 'declined', 'Q.850;cause=21', 21],
    ['503 Service Unavailable', 'network', 'Q.850;cause=38;text="Network out of order"', 38],
  ] as const)('an immediate %s: failed, class %s, the Q.850 cause kept, ACKed and nothing else', async (final, cls, reason, cause) => {
    const carrier = await uas(scenarioVariant('uas-flash-reject.xml', { '486 Busy Here': final }), transport, { reason });
    const uac = await uacFor([trunk('carrier-a', carrier.port, transport)]);
    const events: FlashCallEvent[] = [];
    const result = await uac.place({ to: TO, cli: CLI, trunks: ['carrier-a'], onEvent: (e) => events.push(e) });
    const sipp = await carrier.done;
    expect(sipp.exitCode, sippDump(sipp)).toBe(0);
    expect(result.outcome).toBe('failed');
    expect(result.failureClass).toBe(cls);
    const a = result.attempts[0]!;
    expect(a.finalStatus).toBe(Number(final.slice(0, 3)));
    expect(a.reason?.cause).toBe(cause);
    expect(a.cancelSent).toBe(false);
    expect(events.map((e) => e.type)).toEqual(['placed']);
    const call = callMessages(sipp.wire, a.callId);
    expect(ladder(call)).toEqual(['in INVITE', 'out 100 INVITE', `out ${final.slice(0, 3)} INVITE`, 'in ACK']);
    expect(call[3]!.branch).toBe(call[0]!.branch);
  });

  it('100 Trying and no ring until our ring timeout: CANCEL, 487: failed, class unreachable', async () => {
    const carrier = await uas('uas-flash-no-ring.xml', transport);
    const uac = await uacFor([trunk('carrier-a', carrier.port, transport)], { ringTimeoutMs: 600 });
    const result = await uac.place({ to: TO, cli: CLI, trunks: ['carrier-a'] });
    const sipp = await carrier.done;
    expect(sipp.exitCode, sippDump(sipp)).toBe(0);
    expect(result.outcome).toBe('failed');
    expect(result.failureClass).toBe('unreachable');
    const a = result.attempts[0]!;
    expect(a).toMatchObject({ cancelSent: true, finalStatus: 487, postDialDelayMs: undefined, ringMs: undefined });
    const call = callMessages(sipp.wire, a.callId);
    expect(ladder(call)).toEqual(['in INVITE', 'out 100 INVITE', 'in CANCEL', 'out 200 CANCEL', 'out 487 INVITE', 'in ACK']);
    // The CANCEL waited for our ring timeout (SIPp's clock, ms).
    expect(call[2]!.at - call[0]!.at).toBeGreaterThanOrEqual(590);
  });

  it('no provisional response past our ring timeout: no CANCEL until the 180, then at once', async () => {
    const carrier = await uas('uas-flash-late-ring.xml', transport);
    // A minimum ring far above the bound below: a CANCEL waiting for it would fail the test.
    const uac = await uacFor([trunk('carrier-a', carrier.port, transport)], { ringTimeoutMs: 400, minRingMs: 5_000 });
    const result = await uac.place({ to: TO, cli: CLI, trunks: ['carrier-a'] });
    const sipp = await carrier.done;
    expect(sipp.exitCode, sippDump(sipp)).toBe(0);
    expect(result.outcome).toBe('rang');
    const call = callMessages(sipp.wire, result.attempts[0]!.callId);
    const invites = call.filter((m) => m.method === 'INVITE');
    const ringing = call.find((m) => m.status === 180)!;
    const cancel = call.find((m) => m.method === 'CANCEL')!;
    expect(cancel.at).toBeGreaterThanOrEqual(ringing.at);
    // At once: not minRingMs after the ring (a bound loose enough for a loaded machine).
    expect(cancel.at - ringing.at).toBeLessThan(2_500);
    if (transport === 'udp') {
      // Timer A: the INVITE again at T1, 2*T1, 4*T1 (100, 300, 700 ms) on the same branch, until the 180.
      expect(invites.length).toBeGreaterThanOrEqual(4);
      expect(new Set(invites.map((m) => m.branch)).size).toBe(1);
      const gaps = invites.slice(1, 4).map((m, i) => m.at - invites[i]!.at);
      expect(gaps[0]).toBeGreaterThanOrEqual(90);
      expect(gaps[1]).toBeGreaterThanOrEqual(190);
      expect(gaps[2]).toBeGreaterThanOrEqual(390);
      expect(invites.every((m) => m.at < ringing.at)).toBe(true);
    } else {
      expect(invites).toHaveLength(1);
    }
  });

  it('a 200 OK crossing our CANCEL: ACK to the Contact and BYE at once: answered', async () => {
    const carrier = await uas('uas-flash-answer-race.xml', transport);
    // A short T1: the call stays registered 64*T1 after the 2xx to ACK its retransmissions.
    const uac = await uacFor([trunk('carrier-a', carrier.port, transport)], {}, { t1Ms: 20, t2Ms: 80 });
    const result = await uac.place({ to: TO, cli: CLI, trunks: ['carrier-a'] });
    const sipp = await carrier.done;
    expect(sipp.exitCode, sippDump(sipp)).toBe(0);
    expect(result.outcome).toBe('answered');
    const a = result.attempts[0]!;
    expect(a).toMatchObject({ finalStatus: 200, byeStatus: 200, cancelSent: true });
    const call = callMessages(sipp.wire, a.callId);
    expect(ladder(call)).toEqual([
      'in INVITE', 'out 100 INVITE', 'out 180 INVITE', 'in CANCEL', 'out 200 CANCEL', 'out 200 INVITE', 'in ACK', 'in BYE', 'out 200 BYE',
    ]);
    const invite = call[0]!;
    const ack = call[6]!;
    const bye = call[7]!;
    // The 2xx ACK and the BYE are new transactions inside the dialog, sent to the Contact.
    expect(ack.branch).not.toBe(invite.branch);
    expect(bye.branch).not.toBe(ack.branch);
    expect(ack.cseq).toBe('1 ACK');
    expect(bye.cseq).toBe('2 BYE');
    expect(ack.text.split('\n')[0]).toMatch(/^ACK sip:phone@127\.0\.0\.1:\d+;transport=/);
    expect(bye.header('To')).toMatch(/;tag=/);
    await waitFor(() => uac.callsInFlight === 0);
  });

  it('a 200 OK before our CANCEL (answered while ringing): ACK, BYE at once, no CANCEL: answered', async () => {
    const carrier = await uas('uas-flash-answer.xml', transport);
    const uac = await uacFor([trunk('carrier-a', carrier.port, transport)], { minRingMs: 2_000 }, { t1Ms: 20, t2Ms: 80 });
    const result = await uac.place({ to: TO, cli: CLI, trunks: ['carrier-a'] });
    const sipp = await carrier.done;
    expect(sipp.exitCode, sippDump(sipp)).toBe(0);
    expect(result).toMatchObject({ outcome: 'answered', cancelConfirmed: false });
    expect(result.attempts[0]).toMatchObject({ finalStatus: 200, byeStatus: 200, cancelSent: false, statuses: [100, 180, 200] });
    expect(ladder(callMessages(sipp.wire, result.attempts[0]!.callId))).toEqual(['in INVITE', 'out 100 INVITE', 'out 180 INVITE', 'out 200 INVITE', 'in ACK', 'in BYE', 'out 200 BYE']);
    await waitFor(() => uac.callsInFlight === 0);
  });
});

describe('forked answers', () => {
  it('two 200 OK with different To tags: each dialog is ACKed and BYEd; recorded answered once', async () => {
    const carrier = await uas('uas-flash-fork.xml', 'udp');
    const uac = await uacFor([trunk('a', carrier.port, 'udp')], {}, { t1Ms: 20, t2Ms: 80 });
    const result = await uac.place({ to: TO, cli: CLI, trunks: ['a'] });
    const sipp = await carrier.done;
    expect(sipp.exitCode, sippDump(sipp)).toBe(0);
    expect(result).toMatchObject({ outcome: 'answered', attempts: [{ byeStatus: 200, statuses: [100, 180, 200] }] });
    const call = callMessages(sipp.wire, result.attempts[0]!.callId);
    const byes = call.filter((m) => m.method === 'BYE');
    expect(byes.map((m) => /tag=([^;\s]+)/.exec(m.header('To')!)?.[1])).toEqual([expect.stringContaining('SIPpTag05'), expect.stringContaining('SIPpTag15')]);
    expect(byes.map((m) => m.text.split('\n')[0]!.split(' ')[1]!.split('@')[0])).toEqual(['sip:phone', 'sip:phone2']);
    await waitFor(() => uac.callsInFlight === 0);
  });
});

describe('digest authentication (407 with two challenges)', () => {
  const creds = { username: 'flash', password: 's3cret', realm: undefined };
  it.each([
    ['SHA-256', 'Digest realm="carrier.test", nonce="n-md5", qop="auth", algorithm=MD5', 'Digest realm="carrier.test", nonce="n-sha", qop="auth", algorithm=SHA-256', 'sha256', 'n-sha'],
    ['MD5', 'Digest realm="carrier.test", nonce="n-int", qop="auth-int", algorithm=SHA-256', 'Digest realm="carrier.test", nonce="n-md5", qop="auth", algorithm=MD5', 'md5', 'n-md5'],
  ])('answers the strongest challenge it supports with %s (qop=auth)', async (_alg, challenge1, challenge2, hash, nonce) => {
    const carrier = await uas('uas-flash-auth.xml', 'udp', { challenge1, challenge2 });
    const uac = await uacFor([trunk('carrier-a', carrier.port, 'udp', { credentials: creds })]);
    const result = await uac.place({ to: TO, cli: CLI, trunks: ['carrier-a'] });
    const sipp = await carrier.done;
    expect(sipp.exitCode, sippDump(sipp)).toBe(0);
    expect(result.outcome).toBe('rang');
    expect(result.attempts[0]!.statuses).toEqual([407, 100, 180, 487]);
    const call = callMessages(sipp.wire, result.attempts[0]!.callId);
    expect(ladder(call).slice(0, 4)).toEqual(['in INVITE', 'out 407 INVITE', 'in ACK', 'in INVITE']);
    const [first, , ack407, second] = call;
    expect(ack407!.branch).toBe(first!.branch);
    expect(second!.branch).not.toBe(first!.branch);
    expect(second!.cseq).toBe('2 INVITE');
    expect(second!.header('From')).toBe(first!.header('From'));
    const auth = second!.header('Proxy-Authorization')!;
    const field = (k: string): string | undefined => new RegExp(`${k}="?([^",]+)"?`).exec(auth)?.[1];
    expect(field('nonce')).toBe(nonce);
    expect(field('qop')).toBe('auth');
    // The digest, computed here independently (RFC 7616 §3.4.1).
    const H = (s: string): string => createHash(hash).update(s).digest('hex');
    const ha1 = H(`flash:carrier.test:s3cret`);
    const ha2 = H(`INVITE:${field('uri')}`);
    expect(field('uri')).toBe(first!.text.split('\n')[0]!.split(' ')[1]);
    expect(field('response')).toBe(H(`${ha1}:${nonce}:${field('nc')}:${field('cnonce')}:auth:${ha2}`));
  });
});

describe('digest authentication (401 WWW-Authenticate)', () => {
  it('answers a 401 with Authorization on a new INVITE; credentials for another realm leave it unanswered: rejected', async () => {
    const www = {
      '407 Proxy Authentication Required': '401 Unauthorized', 'Proxy-Authenticate:': 'WWW-Authenticate:', 'Proxy-Authorization:': 'Authorization:',
    };
    const challenge1 = 'Digest realm="carrier.test", nonce="n-1", qop="auth", algorithm=SHA-256';
    const challenge2 = 'Digest realm="carrier.test", nonce="n-2", qop="auth", algorithm=MD5';
    const carrier = await uas(scenarioVariant('uas-flash-auth.xml', www), 'udp', { challenge1, challenge2 });
    const uac = await uacFor([trunk('a', carrier.port, 'udp', { credentials: { username: 'flash', password: 's3cret', realm: 'carrier.test' } })]);
    const result = await uac.place({ to: TO, cli: CLI, trunks: ['a'] });
    const sipp = await carrier.done;
    expect(sipp.exitCode, sippDump(sipp)).toBe(0);
    expect(result.outcome).toBe('rang');
    const second = callMessages(sipp.wire, result.attempts[0]!.callId).filter((m) => m.method === 'INVITE')[1]!;
    expect(second.header('Authorization')).toMatch(/^Digest username="flash", realm="carrier\.test", nonce="n-1", .*algorithm=SHA-256/);

    // The same challenges, credentials for another realm: nothing to answer, so no second INVITE (SIPp
    // waits for one in vain and gives up at its timeout).
    const other = await uas(scenarioVariant('uas-flash-auth.xml', www), 'udp', { challenge1, challenge2 }, 3000);
    const uac2 = await uacFor([trunk('a', other.port, 'udp', { credentials: { username: 'flash', password: 's3cret', realm: 'elsewhere' } })]);
    const r2 = await uac2.place({ to: TO, cli: CLI, trunks: ['a'] });
    expect(r2).toMatchObject({ outcome: 'failed', failureClass: 'rejected' });
    expect(r2.attempts[0]!.finalStatus).toBe(401);
    const otherRun = await other.done;
    expect(ladder(callMessages(otherRun.wire, r2.attempts[0]!.callId))).toEqual(['in INVITE', 'out 401 INVITE', 'in ACK']);
  });
});

describe('outbound proxy and number format', () => {
  it('sends everything to the outbound proxy with a Route naming it; the Request-URI keeps the trunk domain; digits without +', async () => {
    const proxy = await uas('uas-flash-ring.xml', 'udp');
    const uac = await uacFor([flashProxiedTrunk('a', proxy.port)]);
    const result = await uac.place({ to: TO, cli: CLI, trunks: ['a'] });
    const sipp = await proxy.done;
    expect(sipp.exitCode, sippDump(sipp)).toBe(0);
    expect(result.outcome).toBe('rang');
    const call = callMessages(sipp.wire, result.attempts[0]!.callId);
    const [invite, , , cancel, , , ack] = call;
    expect(invite!.text.split('\n')[0]).toBe(`INVITE sip:${TO.slice(1)}@sbc.carrier.invalid:5060;user=phone SIP/2.0`);
    for (const m of [invite!, cancel!, ack!]) expect(m.header('Route')).toBe(`<sip:127.0.0.1:${proxy.port};lr>`);
    expect(invite!.header('From')).toMatch(new RegExp(`^<sip:${CLI.slice(1)}@ringproof\\.test;user=phone>;tag=`));
    expect(invite!.header('P-Asserted-Identity')).toBeUndefined();
  });
});

describe('failover and caps', () => {
  it('503 on the first trunk: the second trunk rings; 486 on the first: no second trunk', async () => {
    const first = await uas(scenarioVariant('uas-flash-reject.xml', { '486 Busy Here': '503 Service Unavailable' }), 'udp', { reason: 'Q.850;cause=38' });
    const second = await uas('uas-flash-ring.xml', 'udp', {});
    const uac = await uacFor([trunk('a', first.port, 'udp'), trunk('b', second.port, 'udp')]);
    // Each trunk has its own caller-ID pool: the CLI is asked per trunk.
    const result = await uac.place({ to: TO, cli: (t) => (t === 'a' ? '+442079460001' : '+442079460002'), trunks: ['a', 'b'] });
    expect(result.outcome).toBe('rang');
    expect(result.trunk).toBe('b');
    expect(result.cli).toBe('+442079460002');
    expect(result.attempts.map((a) => [a.trunk, a.finalStatus, a.cli])).toEqual([['a', 503, '+442079460001'], ['b', 487, '+442079460002']]);
    expect((await first.done).exitCode).toBe(0);
    const secondRun = await second.done;
    expect(secondRun.exitCode).toBe(0);
    expect(secondRun.wire[0]!.header('From')).toContain('<sip:+442079460002@');

    const busy = await uas('uas-flash-reject.xml', 'udp', { reason: 'Q.850;cause=17' });
    const idle = await listeningSocket();
    track(idle);
    const uac2 = await uacFor([trunk('a', busy.port, 'udp'), trunk('b', idle.port, 'udp')]);
    const r2 = await uac2.place({ to: TO, cli: CLI, trunks: ['a', 'b'] });
    expect(r2).toMatchObject({ outcome: 'failed', failureClass: 'busy', trunk: 'a' });
    expect(r2.attempts).toHaveLength(1);
    expect((await busy.done).exitCode).toBe(0);
    expect(idle.received()).toEqual([]);
  });

  it('no response at all: timer B (64*T1), class unreachable, then the next trunk', async () => {
    const silentPort = await freePort(); // nothing listens there
    const second = await uas('uas-flash-ring.xml', 'udp', {});
    const uac = new NativeUac(outbound([trunk('a', silentPort, 'udp'), trunk('b', second.port, 'udp')]), { ...SIP, t1Ms: 30 }, discardLogger('silent'));
    await uac.start();
    track(uac);
    const t0 = performance.now();
    const result = await uac.place({ to: TO, cli: CLI, trunks: ['a', 'b'] });
    expect(result.attempts[0]).toMatchObject({ trunk: 'a', outcome: 'failed', failureClass: 'unreachable', finalStatus: undefined, statuses: [] });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(64 * 30 - 5);
    expect(result).toMatchObject({ outcome: 'rang', trunk: 'b' });
    expect((await second.done).exitCode).toBe(0);
  });

  it('a trunk that refuses the TCP connection: class network at once, then the next trunk', async () => {
    const closedPort = await freePort();
    const second = await uas('uas-flash-ring.xml', 'tcp', {});
    const uac = await uacFor([trunk('a', closedPort, 'tcp'), trunk('b', second.port, 'tcp')]);
    const result = await uac.place({ to: TO, cli: CLI, trunks: ['a', 'b'] });
    expect(result.attempts[0]).toMatchObject({ trunk: 'a', outcome: 'failed', failureClass: 'network' });
    expect(result).toMatchObject({ outcome: 'rang', trunk: 'b' });
    expect((await second.done).exitCode).toBe(0);
  });

  it('200 concurrent calls through one trunk capped at 50 calls/s, every one answered: the cap holds on the wire, one outcome each, every dialog BYEd', async () => {
    const carrier = await uas('uas-flash-answer-race.xml', 'udp', {}, 30_000, 200);
    const uac = await uacFor([trunk('a', carrier.port, 'udp', { cps: 50, maxConcurrent: 200 })], { maxQueueMs: 10_000, minRingMs: 50 }, { t1Ms: 500, t2Ms: 4000 });
    const outcomes = new Map<string, number>();
    const sent: number[] = [];
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => uac.place({
      to: `+4477009${String(i).padStart(5, '0')}`, cli: CLI, trunks: ['a'], onEvent: (e) => { if (e.type === 'placed') sent.push(performance.now()); },
    }).then((r) => {
      for (const a of r.attempts) outcomes.set(a.callId, (outcomes.get(a.callId) ?? 0) + 1);
      return r;
    })));
    const sipp = await carrier.done;
    expect(sipp.exitCode, sippDump(sipp)).toBe(0);
    expect(results.filter((r) => r.outcome === 'answered')).toHaveLength(200);
    expect(results.every((r) => r.attempts.length === 1 && r.attempts[0]!.byeStatus === 200)).toBe(true);
    expect(outcomes.size).toBe(200);
    expect([...outcomes.values()].every((n) => n === 1)).toBe(true);
    // On the wire: the first INVITE of each call, never more than 50 in any 1 s window (SIPp's receive clock).
    const times = firstInviteTimes(sipp.wire);
    expect(times).toHaveLength(200);
    // At our socket, exactly the cap. SIPp stamps a message when it reads it, and on a loaded machine
    // it reads in bursts (stalls of ~100 ms seen), which squeezes arrivals together: on its clock the
    // cap is checked over 850 ms windows, and the 200 calls must span the 3 s the cap implies.
    expect(sent).toHaveLength(200);
    expect(mostInWindow(sent, 1000)).toBeLessThanOrEqual(50);
    expect(mostInWindow(times, 850)).toBeLessThanOrEqual(50);
    expect(times[199]! - times[0]!).toBeGreaterThanOrEqual(3000);
    const byes = sipp.wire.filter((m) => m.direction === 'in' && m.method === 'BYE');
    expect(new Set(byes.map((m) => m.callId)).size).toBe(200);
  });

  it('a full trunk (maxConcurrent) refuses at once: class capacity, nothing sent for the refused call', async () => {
    const carrier = await uas('uas-flash-ring.xml', 'udp');
    const uac = await uacFor([trunk('a', carrier.port, 'udp', { maxConcurrent: 1 })]);
    const [first, second] = await Promise.all([
      uac.place({ to: TO, cli: CLI, trunks: ['a'] }),
      uac.place({ to: '+447700900124', cli: CLI, trunks: ['a'] }),
    ]);
    expect(first.outcome).toBe('rang');
    expect(second).toMatchObject({ outcome: 'failed', failureClass: 'capacity', trunk: 'a', attempts: [] });
    const sipp = await carrier.done;
    expect(new Set(sipp.wire.map((m) => m.callId)).size).toBe(1);
  });

  it('requests to the outbound socket: answered for a trunk hop (OPTIONS 200, stray BYE 481), dropped from anywhere else; junk counted, never fatal', async () => {
    const carrier = await uas('uas-flash-ring.xml', 'udp', {}, 5000);
    const uac = await uacFor([trunk('a', carrier.port, 'udp')]);
    const ask = async (from: string, method: string): Promise<string | undefined> => {
      const s = createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, from, () => r()));
      const port = s.address().port;
      const text = `${method} sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP ${from}:${port};branch=z9hG4bK-${method}-${port}\r\nMax-Forwards: 70\r\n` +
        `From: <sip:a@${from}>;tag=1\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: probe-${port}\r\nCSeq: 1 ${method}\r\nContent-Length: 0\r\n\r\n`;
      const answer = new Promise<string | undefined>((r) => {
        s.once('message', (m) => r(m.toString('latin1').split('\r\n')[0]));
        setTimeout(() => r(undefined), 500);
      });
      s.send(text, uac.localUdpPort, '127.0.0.1');
      const a = await answer;
      s.close();
      return a;
    };
    expect(await ask('127.0.0.1', 'OPTIONS')).toBe('SIP/2.0 200 OK');
    expect(await ask('127.0.0.1', 'BYE')).toMatch(/^SIP\/2\.0 481 /);
    expect(await ask('127.0.0.2', 'OPTIONS')).toBeUndefined();
    expect(uac.drops.foreignRequest).toBe(1);
    // Garbage, a response nobody asked for, an oversize datagram: dropped and counted, and the UAC still places calls.
    const junk = createSocket('udp4');
    const stray = 'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: nobody\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n';
    for (const d of ['\u0000\u0001garbage', stray, 'x'.repeat(9000)]) junk.send(d, uac.localUdpPort, '127.0.0.1');
    await waitFor(() => uac.drops.malformed === 2 && uac.drops.strayResponse === 1);
    junk.close();
    expect((await uac.place({ to: TO, cli: CLI, trunks: ['a'] })).outcome).toBe('rang');
  });

  it('an unknown trunk is refused before anything is sent', async () => {
    const carrier = await listeningSocket();
    track(carrier);
    const uac = await uacFor([trunk('a', carrier.port, 'udp')]);
    await expect(uac.place({ to: TO, cli: CLI, trunks: ['a', 'nope'] })).rejects.toMatchObject({ code: 'RP_FLASH_TRUNK_UNKNOWN' });
    await expect(uac.place({ to: TO, cli: CLI, trunks: [] })).rejects.toMatchObject({ code: 'RP_FLASH_TRUNK_UNKNOWN' });
    // place() refuses before its first await: had it sent anything, loopback would have delivered it by now.
    await new Promise((r) => setTimeout(r, 200));
    expect(carrier.received()).toEqual([]);
  });
});
