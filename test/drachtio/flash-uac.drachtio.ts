/**
 * The drachtio engine's flash-call UAC (DrachtioUac) through a REAL drachtio-server, with SIPp playing
 * the carrier and the phone (sipp-scenarios/uas-flash-*.xml, the native UAC's scenarios): the SIP on the
 * wire (SIPp's message trace), the outcome and the events of each call.
 *
 * Where drachtio-server's SIP stack differs from the native UAC, the expectations say so: it keeps
 * 100 Trying to itself (never in `statuses`), it ACKs non-2xx responses, it holds a CANCEL back until
 * a provisional response, and it ACKs and BYEs a 2xx that crossed our CANCEL itself.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { OutboundConfig, OutboundTrunkConfig, SipConfig } from '../../src/config/config-types.js';
import { DrachtioUac } from '../../src/sip/engines/index.js';
import type { SrfInstance } from '../../src/sip/engines/drachtio/srf-seam.js';
import type { FlashCallEvent, FlashCallResult, TrunkAttempt, UacObserver } from '../../src/sip/uac/index.js';
import { FLASH_CLI as CLI, FLASH_TO as TO, firstInviteTimes, flashOutbound, flashProxiedTrunk, flashTrunk as trunk, listeningSocket, mostInWindow, sippDump, useFlashCarriers, waitFor } from '../helpers/flash-uac-rig.js';
import { runRingproof } from '../helpers/daemon-process.js';
import { discardLogger } from '../helpers/log-capture.js';
import { callMessages, ladder, scenarioVariant } from '../helpers/sipp-uas.js';
import { requireDrachtioTarget } from './drachtio-target.js';

const target = requireDrachtioTarget();
const SIP: Pick<SipConfig, 't1Ms' | 'drachtio'> = { t1Ms: 500, drachtio: { host: target.host, port: target.port, secret: target.secret } };

const { carrier: uas, track } = useFlashCarriers(10_000);

async function uacFor(trunks: OutboundTrunkConfig[], extra: Partial<OutboundConfig> = {}, observer?: UacObserver): Promise<DrachtioUac> {
  const uac = new DrachtioUac(flashOutbound(trunks, extra), SIP, discardLogger('silent'), observer, { pingIntervalMs: 1_000, pingTimeoutMs: 2_000 });
  await uac.start();
  track(uac);
  return uac;
}

describe.each(['udp', 'tcp'] as const)('drachtio flash call over %s', (transport) => {
  it.each(['180 Ringing', '183 Session Progress'])('%s, our CANCEL after the minimum ring, 487: rang', async (ring) => {
    const carrier = await uas(scenarioVariant('uas-flash-ring.xml', { '180 Ringing': ring }), transport);
    const uac = await uacFor([trunk('carrier-a', carrier.port, transport)]);
    const events: FlashCallEvent[] = [];
    const result = await uac.place({ to: TO, cli: CLI, trunks: ['carrier-a'], onEvent: (e) => events.push(e) });
    const sipp = await carrier.done;
    expect(sipp.exitCode, sippDump(sipp)).toBe(0);
    expect(result).toMatchObject({ outcome: 'rang', failureClass: undefined, cancelConfirmed: true, trunk: 'carrier-a', cli: CLI });
    const a = result.attempts[0]!;
    expect(result.attempts).toHaveLength(1);
    // drachtio-server keeps the 100 Trying to itself.
    expect(a.statuses).toEqual([Number(ring.slice(0, 3)), 487]);
    expect(a.ringMs).toBeGreaterThanOrEqual(190);
    expect(events.map((e) => e.type)).toEqual(['placed', 'ringing']);
    expect(events[0]).toMatchObject({ callId: a.callId });

    const call = callMessages(sipp.wire, a.callId);
    expect(ladder(call)).toEqual(['in INVITE', 'out 100 INVITE', `out ${ring.slice(0, 3)} INVITE`, 'in CANCEL', 'out 200 CANCEL', 'out 487 INVITE', 'in ACK']);
    const [invite, , ringing, cancel, , , ack] = call;
    expect(cancel!.branch).toBe(invite!.branch);
    expect(ack!.branch).toBe(invite!.branch);
    expect(cancel!.at - ringing!.at).toBeGreaterThanOrEqual(190);
    expect(invite!.text.split('\n')[0]).toBe(`INVITE sip:${TO}@127.0.0.1:${carrier.port}${transport === 'tcp' ? ';transport=tcp' : ''};user=phone SIP/2.0`);
    expect(invite!.header('From')).toMatch(new RegExp(`^<sip:\\${CLI}@ringproof\\.test;user=phone>;tag=`));
    expect(invite!.header('P-Asserted-Identity')).toBe(`<sip:${CLI}@ringproof.test;user=phone>`);
    expect(invite!.header('Content-Type')).toBe('application/sdp');
    expect(invite!.header('Via')).toMatch(new RegExp(`^SIP/2.0/${transport.toUpperCase()} `));
    await waitFor(() => uac.callsInFlight === 0);
  });

  it('a 200 OK crossing our CANCEL: ACKed and BYEd (by drachtio-server), recorded answered', async () => {
    const carrier = await uas('uas-flash-answer-race.xml', transport);
    const uac = await uacFor([trunk('carrier-a', carrier.port, transport)]);
    const result = await uac.place({ to: TO, cli: CLI, trunks: ['carrier-a'] });
    const sipp = await carrier.done;
    expect(sipp.exitCode, sippDump(sipp)).toBe(0);
    expect(result.outcome).toBe('answered');
    const a = result.attempts[0]!;
    // drachtio-server sends the ACK and BYE of a 2xx to a cancelled INVITE itself and reports no BYE status.
    expect(a).toMatchObject({ finalStatus: 200, cancelSent: true, statuses: [180, 200], byeStatus: undefined });
    const call = callMessages(sipp.wire, a.callId);
    expect(ladder(call)).toEqual([
      'in INVITE', 'out 100 INVITE', 'out 180 INVITE', 'in CANCEL', 'out 200 CANCEL', 'out 200 INVITE', 'in ACK', 'in BYE', 'out 200 BYE',
    ]);
    const [invite, , , , , , ack, bye] = call;
    expect(ack!.branch).not.toBe(invite!.branch);
    expect(ack!.text.split('\n')[0]).toMatch(/^ACK sip:phone@127\.0\.0\.1:\d+;transport=/);
    expect(bye!.header('To')).toMatch(/;tag=/);
    await waitFor(() => uac.callsInFlight === 0);
  });

  it('a 200 OK before our CANCEL (answered while ringing): ACK, our BYE at once, its 200 recorded: answered, no CANCEL', async () => {
    const carrier = await uas('uas-flash-answer.xml', transport);
    const uac = await uacFor([trunk('carrier-a', carrier.port, transport)], { minRingMs: 2_000 });
    const result = await uac.place({ to: TO, cli: CLI, trunks: ['carrier-a'] });
    const sipp = await carrier.done;
    expect(sipp.exitCode, sippDump(sipp)).toBe(0);
    expect(result).toMatchObject({ outcome: 'answered', cancelConfirmed: false });
    expect(result.attempts[0]).toMatchObject({ finalStatus: 200, byeStatus: 200, cancelSent: false, statuses: [180, 200] });
    const call = callMessages(sipp.wire, result.attempts[0]!.callId);
    expect(ladder(call)).toEqual(['in INVITE', 'out 100 INVITE', 'out 180 INVITE', 'out 200 INVITE', 'in ACK', 'in BYE', 'out 200 BYE']);
    expect(call[5]!.text.split('\n')[0]).toMatch(/^BYE sip:phone@127\.0\.0\.1:\d+;transport=/);
    await waitFor(() => uac.callsInFlight === 0);
  });
});

describe('drachtio flash call failures (UDP)', () => {
  it.each([
    ['486 Busy Here', 'busy', 'Q.850;cause=17;text="User busy"', 17],
    ['404 Not Found', 'invalid_number', 'Q.850;cause=1;text="Unallocated number"', 1],
    ['503 Service Unavailable', 'network', 'Q.850;cause=38;text="Network out of order"', 38],
  ] as const)('an immediate %s: failed, class %s, the Q.850 cause kept, ACKed and nothing else', async (final, cls, reason, cause) => {
    const carrier = await uas(scenarioVariant('uas-flash-reject.xml', { '486 Busy Here': final }), 'udp', { reason });
    const uac = await uacFor([trunk('carrier-a', carrier.port, 'udp')]);
    const events: FlashCallEvent[] = [];
    const result = await uac.place({ to: TO, cli: CLI, trunks: ['carrier-a'], onEvent: (e) => events.push(e) });
    const sipp = await carrier.done;
    expect(sipp.exitCode, sippDump(sipp)).toBe(0);
    expect(result).toMatchObject({ outcome: 'failed', failureClass: cls });
    const a = result.attempts[0]!;
    expect(a).toMatchObject({ finalStatus: Number(final.slice(0, 3)), cancelSent: false, reason: { cause } });
    expect(events.map((e) => e.type)).toEqual(['placed']);
    const call = callMessages(sipp.wire, a.callId);
    expect(ladder(call)).toEqual(['in INVITE', 'out 100 INVITE', `out ${final.slice(0, 3)} INVITE`, 'in ACK']);
    expect(call[3]!.branch).toBe(call[0]!.branch);
  });

  it('100 Trying and no ring until our ring timeout: CANCEL, 487: failed, class unreachable', async () => {
    const carrier = await uas('uas-flash-no-ring.xml', 'udp');
    const uac = await uacFor([trunk('carrier-a', carrier.port, 'udp')], { ringTimeoutMs: 600 });
    const result = await uac.place({ to: TO, cli: CLI, trunks: ['carrier-a'] });
    const sipp = await carrier.done;
    expect(sipp.exitCode, sippDump(sipp)).toBe(0);
    expect(result).toMatchObject({ outcome: 'failed', failureClass: 'unreachable', cancelConfirmed: true });
    expect(result.attempts[0]).toMatchObject({ cancelSent: true, finalStatus: 487, postDialDelayMs: undefined, ringMs: undefined, statuses: [487] });
    const call = callMessages(sipp.wire, result.attempts[0]!.callId);
    expect(ladder(call)).toEqual(['in INVITE', 'out 100 INVITE', 'in CANCEL', 'out 200 CANCEL', 'out 487 INVITE', 'in ACK']);
    // The CANCEL waited for our ring timeout, which runs from the moment ringproof hands the INVITE to
    // drachtio-server: one loopback hop, and drachtio-server's own send, before SIPp stamps it.
    expect(call[2]!.at - call[0]!.at).toBeGreaterThanOrEqual(500);
  });

  it('no provisional response past our ring timeout: the CANCEL is held until the 180 (never before a 1xx), then goes at once', async () => {
    const carrier = await uas('uas-flash-late-ring.xml', 'udp');
    // A minimum ring far above the bound below: a CANCEL waiting for it would fail the test.
    const uac = await uacFor([trunk('carrier-a', carrier.port, 'udp')], { ringTimeoutMs: 400, minRingMs: 5_000 });
    const result = await uac.place({ to: TO, cli: CLI, trunks: ['carrier-a'] });
    const sipp = await carrier.done;
    // SIPp fails the call on a CANCEL during its silence.
    expect(sipp.exitCode, sippDump(sipp)).toBe(0);
    expect(result.outcome).toBe('rang');
    const call = callMessages(sipp.wire, result.attempts[0]!.callId);
    const ringing = call.find((m) => m.status === 180)!;
    const cancel = call.find((m) => m.method === 'CANCEL')!;
    expect(cancel.at).toBeGreaterThanOrEqual(ringing.at);
    // At once: not minRingMs after the ring (a bound loose enough for a loaded machine).
    expect(cancel.at - ringing.at).toBeLessThan(2_500);
    // drachtio-server's timer A retransmitted the INVITE on its branch during the silence (its T1 is 500 ms).
    const invites = call.filter((m) => m.method === 'INVITE');
    expect(invites.length).toBeGreaterThanOrEqual(2);
    expect(new Set(invites.map((m) => m.branch)).size).toBe(1);
    expect(invites.every((m) => m.at < ringing.at)).toBe(true);
  });

  it.each([
    ['SHA-256', 'Digest realm="carrier.test", nonce="n-md5", qop="auth", algorithm=MD5', 'Digest realm="carrier.test", nonce="n-sha", qop="auth", algorithm=SHA-256', 'sha256', 'n-sha'],
    ['MD5', 'Digest realm="carrier.test", nonce="n-int", qop="auth-int", algorithm=SHA-256', 'Digest realm="carrier.test", nonce="n-md5", qop="auth", algorithm=MD5', 'md5', 'n-md5'],
  ])('a 407 with two challenges: the strongest it supports answered with %s on a new INVITE (same Call-ID and From tag, CSeq + 1)', async (_alg, challenge1, challenge2, hash, nonce) => {
    const carrier = await uas('uas-flash-auth.xml', 'udp', { challenge1, challenge2 });
    const uac = await uacFor([trunk('carrier-a', carrier.port, 'udp', { credentials: { username: 'flash', password: 's3cret', realm: undefined } })]);
    const result = await uac.place({ to: TO, cli: CLI, trunks: ['carrier-a'] });
    const sipp = await carrier.done;
    expect(sipp.exitCode, sippDump(sipp)).toBe(0);
    expect(result.outcome).toBe('rang');
    expect(result.attempts[0]!.statuses).toEqual([407, 180, 487]);
    const call = callMessages(sipp.wire, result.attempts[0]!.callId);
    expect(ladder(call).slice(0, 4)).toEqual(['in INVITE', 'out 407 INVITE', 'in ACK', 'in INVITE']);
    const [first, , ack407, second] = call;
    expect(ack407!.branch).toBe(first!.branch);
    expect(second!.branch).not.toBe(first!.branch);
    expect(Number(second!.cseq!.split(' ')[0])).toBe(Number(first!.cseq!.split(' ')[0]) + 1);
    expect(second!.header('From')).toBe(first!.header('From'));
    const auth = second!.header('Proxy-Authorization')!;
    const field = (k: string): string | undefined => new RegExp(`${k}="?([^",]+)"?`).exec(auth)?.[1];
    expect(field('nonce')).toBe(nonce);
    expect(field('qop')).toBe('auth');
    const H = (s: string): string => createHash(hash).update(s).digest('hex');
    expect(field('uri')).toBe(first!.text.split('\n')[0]!.split(' ')[1]);
    expect(field('response')).toBe(H(`${H('flash:carrier.test:s3cret')}:${nonce}:${field('nc')}:${field('cnonce')}:auth:${H(`INVITE:${field('uri')}`)}`));
  });

  it('a 401: answered with Authorization for the configured realm; credentials for another realm leave it unanswered: rejected', async () => {
    const www = { '407 Proxy Authentication Required': '401 Unauthorized', 'Proxy-Authenticate:': 'WWW-Authenticate:', 'Proxy-Authorization:': 'Authorization:' };
    const keys = { challenge1: 'Digest realm="carrier.test", nonce="n-1", qop="auth", algorithm=SHA-256', challenge2: 'Digest realm="carrier.test", nonce="n-2", qop="auth", algorithm=MD5' };
    const carrier = await uas(scenarioVariant('uas-flash-auth.xml', www), 'udp', keys);
    const uac = await uacFor([trunk('a', carrier.port, 'udp', { credentials: { username: 'flash', password: 's3cret', realm: 'carrier.test' } })]);
    expect((await uac.place({ to: TO, cli: CLI, trunks: ['a'] })).outcome).toBe('rang');
    const sipp = await carrier.done;
    expect(sipp.exitCode, sippDump(sipp)).toBe(0);
    const second = sipp.wire.filter((m) => m.method === 'INVITE')[1]!;
    expect(second.header('Authorization')).toMatch(/^Digest username="flash", realm="carrier\.test", nonce="n-1", .*algorithm=SHA-256/);

    const other = await uas(scenarioVariant('uas-flash-auth.xml', www), 'udp', keys, 2_000);
    const uac2 = await uacFor([trunk('a', other.port, 'udp', { credentials: { username: 'flash', password: 's3cret', realm: 'elsewhere' } })]);
    const r2 = await uac2.place({ to: TO, cli: CLI, trunks: ['a'] });
    expect(r2).toMatchObject({ outcome: 'failed', failureClass: 'rejected', attempts: [{ finalStatus: 401, statuses: [401] }] });
    expect(ladder(callMessages((await other.done).wire, r2.attempts[0]!.callId))).toEqual(['in INVITE', 'out 401 INVITE', 'in ACK']);
  });

  it('503 on the first trunk: the second trunk rings; 486: no second trunk; an unknown trunk: nothing sent', async () => {
    const first = await uas(scenarioVariant('uas-flash-reject.xml', { '486 Busy Here': '503 Service Unavailable' }), 'udp', { reason: 'Q.850;cause=38' });
    const second = await uas('uas-flash-ring.xml', 'udp');
    const uac = await uacFor([trunk('a', first.port, 'udp'), trunk('b', second.port, 'udp')]);
    const result = await uac.place({ to: TO, cli: (t) => (t === 'a' ? '+442079460001' : '+442079460002'), trunks: ['a', 'b'] });
    expect(result).toMatchObject({ outcome: 'rang', trunk: 'b', cli: '+442079460002' });
    expect(result.attempts.map((a) => [a.trunk, a.finalStatus, a.cli])).toEqual([['a', 503, '+442079460001'], ['b', 487, '+442079460002']]);
    expect((await first.done).exitCode).toBe(0);
    expect((await second.done).exitCode).toBe(0);

    const busy = await uas('uas-flash-reject.xml', 'udp', { reason: 'Q.850;cause=17' });
    const idle = await listeningSocket();
    track(idle);
    const uac2 = await uacFor([trunk('a', busy.port, 'udp'), trunk('b', idle.port, 'udp')]);
    const r2 = await uac2.place({ to: TO, cli: CLI, trunks: ['a', 'b'] });
    expect(r2).toMatchObject({ outcome: 'failed', failureClass: 'busy', trunk: 'a' });
    expect(r2.attempts).toHaveLength(1);
    expect((await busy.done).exitCode).toBe(0);
    await expect(uac2.place({ to: TO, cli: CLI, trunks: ['a', 'nope'] })).rejects.toMatchObject({ code: 'RP_FLASH_TRUNK_UNKNOWN' });
    await new Promise((r) => setTimeout(r, 200));
    expect(idle.received()).toEqual([]);
  });

  it('an outbound proxy: everything goes to it (without a Route: drachtio-server drops one); the Request-URI keeps the trunk domain; digits without +', async () => {
    const proxy = await uas('uas-flash-ring.xml', 'udp');
    const uac = await uacFor([flashProxiedTrunk('a', proxy.port)]);
    const result = await uac.place({ to: TO, cli: CLI, trunks: ['a'] });
    const sipp = await proxy.done;
    expect(sipp.exitCode, sippDump(sipp)).toBe(0);
    expect(result.outcome).toBe('rang');
    const call = callMessages(sipp.wire, result.attempts[0]!.callId);
    const invite = call[0]!;
    expect(invite.text.split('\n')[0]).toBe(`INVITE sip:${TO.slice(1)}@sbc.carrier.invalid:5060;user=phone SIP/2.0`);
    expect(invite.header('Route')).toBeUndefined();
    expect(invite.header('From')).toMatch(new RegExp(`^<sip:${CLI.slice(1)}@ringproof\\.test;user=phone>;tag=`));
    expect(invite.header('P-Asserted-Identity')).toBeUndefined();
  });

  it('the drachtio-server connection drops during a call: the call ends failed (network) at once; the UAC reconnects and places the next', async () => {
    const silent = await uas('uas-flash-no-ring.xml', 'udp', {}, 4_000);
    const ringing = await uas('uas-flash-ring.xml', 'udp');
    const uac = await uacFor([trunk('a', silent.port, 'udp'), trunk('b', ringing.port, 'udp')], { ringTimeoutMs: 30_000 });
    let lost: FlashCallResult | undefined;
    await new Promise<void>((placed) => {
      void uac.place({ to: TO, cli: CLI, trunks: ['a'], onEvent: (e) => { if (e.type === 'placed') placed(); } }).then((r) => { lost = r; });
    });
    // Cut the UAC's own connection, as a drachtio-server restart or a network fault would.
    (uac as unknown as { srf: SrfInstance }).srf.app.client?.mapServer.keys().next().value?.destroy();
    await waitFor(() => lost !== undefined, 5_000);
    expect(lost).toMatchObject({ outcome: 'failed', failureClass: 'network', attempts: [{ trunk: 'a', finalStatus: undefined }] });
    expect(uac.callsInFlight).toBe(0);
    await waitFor(() => uac.ready, 10_000);
    expect((await uac.place({ to: TO, cli: CLI, trunks: ['b'] })).outcome).toBe('rang');
    expect((await ringing.done).exitCode).toBe(0);
  });

  it('a drachtio-server that cannot be reached: start() fails naming it; no call is placed', async () => {
    const dead = new DrachtioUac(flashOutbound([trunk('a', 5060, 'udp')]), { ...SIP, drachtio: { ...SIP.drachtio, port: 1 } }, discardLogger('silent'), undefined, { connectTimeoutMs: 300 });
    await expect(dead.start()).rejects.toMatchObject({ code: 'RP_DRACHTIO_CONNECTION' });
    await expect(dead.place({ to: TO, cli: CLI, trunks: ['a'] })).rejects.toMatchObject({ code: 'RP_INTERNAL' });
  });

  it('200 concurrent calls through one trunk capped at 50 calls/s, each answered across our CANCEL: the cap holds on the wire, one outcome each, every dialog BYEd', async () => {
    const carrier = await uas('uas-flash-answer-race.xml', 'udp', {}, 30_000, 200);
    const seen: TrunkAttempt[] = [];
    const uac = await uacFor([trunk('a', carrier.port, 'udp', { cps: 50, maxConcurrent: 200 })], { maxQueueMs: 10_000, minRingMs: 50 }, {
      attempt: (a) => seen.push(a), refused: () => undefined,
    });
    const sent: number[] = [];
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => uac.place({
      to: `+4477009${String(i).padStart(5, '0')}`, cli: CLI, trunks: ['a'], onEvent: (e) => { if (e.type === 'placed') sent.push(performance.now()); },
    })));
    const sipp = await carrier.done;
    expect(sipp.exitCode, sippDump(sipp)).toBe(0);
    expect(results.filter((r) => r.outcome === 'answered')).toHaveLength(200);
    expect(results.every((r) => r.attempts.length === 1)).toBe(true);
    // One outcome per call: 200 distinct Call-IDs, each reported once.
    expect(seen).toHaveLength(200);
    expect(new Set(seen.map((a) => a.callId)).size).toBe(200);
    const times = firstInviteTimes(sipp.wire);
    expect(times).toHaveLength(200);
    expect(sent).toHaveLength(200);
    expect(mostInWindow(sent, 1000)).toBeLessThanOrEqual(50);
    // On SIPp's clock (it reads in bursts on a loaded machine, and drachtio-server adds its own hop).
    expect(mostInWindow(times, 850)).toBeLessThanOrEqual(50);
    expect(times[199]! - times[0]!).toBeGreaterThanOrEqual(3000);
    // Nothing left open: every dialog got its BYE and the BYE its 200.
    const byes = sipp.wire.filter((m) => m.direction === 'in' && m.method === 'BYE');
    expect(new Set(byes.map((m) => m.callId)).size).toBe(200);
    expect(sipp.wire.filter((m) => m.direction === 'out' && m.status === 200 && m.cseq?.endsWith('BYE')).length).toBeGreaterThanOrEqual(200);
    await waitFor(() => uac.callsInFlight === 0);
  });

  it('`ringproof flash call` with sip.engine drachtio: the same command, the call placed through drachtio-server', async () => {
    const carrier = await uas('uas-flash-ring.xml', 'udp');
    const dir = mkdtempSync(join(tmpdir(), 'rp-flash-drachtio-'));
    try {
      const file = join(dir, 'ringproof.yaml');
      writeFileSync(file, [
        'sip:', '  engine: drachtio', '  drachtio:', `    host: ${target.host}`, `    port: ${target.port}`, `    secret: ${JSON.stringify(target.secret)}`,
        'outbound:', '  minRingMs: 200', '  trunks:', '    - name: lab', `      target: udp:127.0.0.1:${carrier.port}`, '      cliPool: ["+4420794600XX"]', '',
      ].join('\n'));
      const r = await runRingproof(['flash', 'call', '+447911123456', '-c', file, '--json'], { timeoutMs: 15_000 });
      const sipp = await carrier.done;
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      expect(sipp.exitCode, sippDump(sipp)).toBe(0);
      const out = JSON.parse(r.stdout) as { outcome: string; cli: string; code: string; attempts: Array<{ callId: string }> };
      expect(out).toMatchObject({ outcome: 'rang', cancelConfirmed: true, trunk: 'lab' });
      expect(out.cli.endsWith(out.code)).toBe(true);
      const call = callMessages(sipp.wire, out.attempts[0]!.callId);
      expect(ladder(call)).toEqual(['in INVITE', 'out 100 INVITE', 'out 180 INVITE', 'in CANCEL', 'out 200 CANCEL', 'out 487 INVITE', 'in ACK']);
      expect(call[0]!.header('From')).toContain(`<sip:${out.cli}@`);
      // drachtio-server's own SIP address in Via, not an outbound socket of ringproof's.
      expect(call[0]!.header('Via')).not.toContain(`:${carrier.port}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
