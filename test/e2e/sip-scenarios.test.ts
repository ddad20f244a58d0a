/**
 * The user-facing SIPp scenarios (sipp-scenarios/) against the real daemon (`ringproof serve`, role
 * edge, built CLI, log sink, no Redis), over UDP and over TCP. Each test asserts on SIPp's own verdict
 * (exit code, statistics, per-message screen) AND on what the daemon counted (/metrics deltas).
 *
 * The daemon is shared within a transport; tests read metric deltas, and the one that leaves
 * transactions behind on purpose (no ACK) runs last.
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemonProcess, type DaemonProcess } from '../helpers/daemon-process.js';
import { metricDelta, type MetricsSnapshot } from '../helpers/metrics-scrape.js';
import { describeSipp, runSipp, sippMessage, type SippResult, type SippRunOptions } from '../helpers/sipp.js';

type Transport = 'udp' | 'tcp';

const TRUNK = 'loopback';

describe.each<Transport>(['udp', 'tcp'])('SIPp scenarios over %s', (transport) => {
  let daemon: DaemonProcess;
  let configDir: string;

  beforeAll(async () => {
    // Defaults except a short shutdown grace: the no-ACK test leaves transactions that a graceful
    // stop would otherwise wait 10 s for.
    configDir = mkdtempSync(join(tmpdir(), 'rp-sip-e2e-'));
    const configFile = join(configDir, 'ringproof.yaml');
    writeFileSync(configFile, 'shutdownGraceSeconds: 1\n');
    // role edge: the SIP side alone, no Redis (the log sink counts and logs the CallEvents).
    daemon = await startDaemonProcess({ configFile, env: { RINGPROOF_ROLE: 'edge' } });
  });

  afterAll(async () => {
    try {
      if (daemon) expect(await daemon.stop()).toBe(0);
    } finally {
      rmSync(configDir, { recursive: true, force: true });
    }
  });

  const sipp = (opts: Omit<SippRunOptions, 'transport' | 'target'>): Promise<SippResult> =>
    runSipp({ transport, target: `127.0.0.1:${daemon.sipPort}`, timeoutMs: 20_000, ...opts });

  /** SIPp placed `calls` calls and every one succeeded. */
  const expectAllPassed = (r: SippResult, calls: number): void => {
    expect(r.exitCode, describeSipp(r)).toBe(0);
    expect(r.stats.successful, describeSipp(r)).toBe(calls);
    expect(r.stats.failed, describeSipp(r)).toBe(0);
  };

  const delta = (before: MetricsSnapshot, after: MetricsSnapshot, name: string, labels: Record<string, string> = {}): number =>
    metricDelta(before, after, name, labels);

  it('rejects load with an ACK per call: one CallEvent per INVITE, transactions drained (uac-reject.xml)', async () => {
    const calls = 50;
    const before = await daemon.metrics();
    const r = await sipp({ scenario: 'uac-reject.xml', injection: 'callers.csv', calls, rate: 100 });
    expectAllPassed(r, calls);
    expect(sippMessage(r, '486').messages).toBe(calls);
    expect(sippMessage(r, 'ACK').messages).toBe(calls);

    const after = await daemon.metrics();
    expect(delta(before, after, 'ringproof_call_events_total', { trunk: TRUNK, cli_origin: 'from' })).toBe(calls);
    // Exact net of retransmissions: on a starved machine SIPp may resend an INVITE after 500 ms (and
    // the ACK when timer G resent the 486 first); those are absorbed, never a second call.
    const invites = delta(before, after, 'ringproof_sip_requests_total', { method: 'INVITE', transport, trunk: TRUNK });
    const absorbed = delta(before, after, 'ringproof_sip_retransmissions_total', { kind: 'request_in', transport });
    expect(invites - absorbed).toBe(calls);
    expect(delta(before, after, 'ringproof_sip_requests_total', { method: 'ACK', transport, trunk: TRUNK })).toBeGreaterThanOrEqual(calls);
    expect(delta(before, after, 'ringproof_sip_responses_total', { code: '486', transport })).toBeGreaterThanOrEqual(calls);
    expect(delta(before, after, 'ringproof_sip_invite_to_final_seconds_count', { transport })).toBe(calls);
    expect(delta(before, after, 'ringproof_sip_drops_total', { reason: 'stray_ack', transport })).toBe(0);
    expect(delta(before, after, 'ringproof_sip_retransmissions_total', { kind: 'duplicate_call', transport })).toBe(0);

    // Every transaction ends: at once on TCP (ACK), after timer I (T4 = 5 s) on UDP.
    await expect.poll(async () => (await daemon.metrics()).get('ringproof_sip_transactions'), { timeout: 9000, interval: 250 }).toBe(0);
  });

  it('reads the CLI from P-Asserted-Identity when From is anonymous (uac-reject-pai.xml)', async () => {
    const calls = 30;
    const before = await daemon.metrics();
    const r = await sipp({ scenario: 'uac-reject-pai.xml', injection: 'callers.csv', calls, rate: 100 });
    expectAllPassed(r, calls);
    const after = await daemon.metrics();
    expect(delta(before, after, 'ringproof_call_events_total', { cli_origin: 'pai' })).toBe(calls);
    expect(delta(before, after, 'ringproof_call_events_total')).toBe(calls);
  });

  it('answers a retransmitted INVITE with the same response and counts the call once (uac-retransmit.xml)', async () => {
    const calls = 20;
    const before = await daemon.metrics();
    // -nr: with its own retransmission logic on, SIPp would absorb the identical second answer.
    const r = await sipp({ scenario: 'uac-retransmit.xml', calls, rate: 50, extraArgs: ['-nr'] });
    expectAllPassed(r, calls);
    // Both answers arrived and matched (the scenario fails a call whose two To-tags differ).
    expect(sippMessage(r, '486', 0).messages).toBe(calls);
    expect(sippMessage(r, '486', 1).messages).toBe(calls);

    const after = await daemon.metrics();
    expect(delta(before, after, 'ringproof_sip_requests_total', { method: 'INVITE', transport })).toBe(2 * calls);
    expect(delta(before, after, 'ringproof_sip_retransmissions_total', { kind: 'request_in', transport })).toBe(calls);
    expect(delta(before, after, 'ringproof_call_events_total')).toBe(calls);
    expect(delta(before, after, 'ringproof_sip_invite_to_final_seconds_count', { transport })).toBe(calls);
    expect(delta(before, after, 'ringproof_sip_drops_total', { reason: 'stray_ack', transport })).toBe(0);
  });

  it('answers CANCEL 200 for a known INVITE and 481 for an unknown one (uac-cancel.xml)', async () => {
    const calls = 10;
    const before = await daemon.metrics();
    const r = await sipp({ scenario: 'uac-cancel.xml', calls, rate: 50 });
    expectAllPassed(r, calls);
    expect(sippMessage(r, '200').messages).toBe(calls);
    expect(sippMessage(r, '481').messages).toBe(calls);

    const after = await daemon.metrics();
    expect(delta(before, after, 'ringproof_sip_requests_total', { method: 'CANCEL', transport })).toBe(2 * calls);
    expect(delta(before, after, 'ringproof_sip_responses_total', { code: '200', transport })).toBe(calls);
    expect(delta(before, after, 'ringproof_sip_responses_total', { code: '481', transport })).toBe(calls);
    expect(delta(before, after, 'ringproof_call_events_total')).toBe(calls);
    // The ACK after the CANCEL still finds the INVITE transaction.
    expect(delta(before, after, 'ringproof_sip_drops_total', { reason: 'stray_ack', transport })).toBe(0);
  });

  it('answers the carrier OPTIONS ping 200 with Allow, Max-Forwards 0 included (uac-options.xml)', async () => {
    const calls = 10;
    const before = await daemon.metrics();
    const r = await sipp({ scenario: 'uac-options.xml', calls, rate: 50 });
    expectAllPassed(r, calls);
    const after = await daemon.metrics();
    expect(delta(before, after, 'ringproof_sip_requests_total', { method: 'OPTIONS', transport, trunk: TRUNK })).toBe(2 * calls);
    expect(delta(before, after, 'ringproof_sip_responses_total', { code: '200', transport })).toBe(2 * calls);
    expect(delta(before, after, 'ringproof_sip_responses_total', { code: '483', transport })).toBe(0);
    expect(delta(before, after, 'ringproof_call_events_total')).toBe(0);
  });

  it('rejects a withheld caller like any other and marks the CLI withheld (uac-anonymous.xml)', async () => {
    const calls = 10;
    const before = await daemon.metrics();
    const r = await sipp({ scenario: 'uac-anonymous.xml', calls, rate: 50 });
    expectAllPassed(r, calls);
    expect(sippMessage(r, '486').messages).toBe(calls);
    const after = await daemon.metrics();
    expect(delta(before, after, 'ringproof_call_events_total', { trunk: TRUNK, cli_origin: 'withheld' })).toBe(calls);
    expect(delta(before, after, 'ringproof_call_events_total')).toBe(calls);
  });

  it('understands compact header forms, ACK included (uac-compact.xml)', async () => {
    const calls = 10;
    const before = await daemon.metrics();
    const r = await sipp({ scenario: 'uac-compact.xml', calls, rate: 50 });
    expectAllPassed(r, calls);
    const after = await daemon.metrics();
    expect(delta(before, after, 'ringproof_call_events_total', { cli_origin: 'from' })).toBe(calls);
    expect(delta(before, after, 'ringproof_sip_requests_total', { method: 'ACK', transport, trunk: TRUNK })).toBe(calls);
    expect(delta(before, after, 'ringproof_sip_drops_total', { reason: 'stray_ack', transport })).toBe(0);
  });

  it('refuses bad requests with 400, 483, 481, 405 and 501 (uac-bad-requests.xml)', async () => {
    const calls = 5;
    const before = await daemon.metrics();
    const r = await sipp({ scenario: 'uac-bad-requests.xml', calls, rate: 20 });
    expectAllPassed(r, calls);
    const after = await daemon.metrics();
    for (const code of ['400', '483', '481', '405', '501']) {
      expect(delta(before, after, 'ringproof_sip_responses_total', { code, transport }), `code ${code}`).toBe(calls);
    }
    expect(delta(before, after, 'ringproof_sip_requests_total', { method: 'REGISTER', transport })).toBe(calls);
    expect(delta(before, after, 'ringproof_sip_requests_total', { method: 'other', transport })).toBe(calls);
    // A looping INVITE (483) is no call.
    expect(delta(before, after, 'ringproof_call_events_total')).toBe(0);
  });

  it('answers 400 to a request without Call-ID, which SIPp cannot check (plain socket)', async () => {
    const before = await daemon.metrics();
    const request = [
      `OPTIONS sip:127.0.0.1:${daemon.sipPort} SIP/2.0`,
      `Via: SIP/2.0/${transport.toUpperCase()} 127.0.0.1:5999;branch=z9hG4bK-nocallid-${transport}`,
      'Max-Forwards: 70',
      'From: <sip:probe@127.0.0.1>;tag=nocid',
      `To: <sip:127.0.0.1:${daemon.sipPort}>`,
      'CSeq: 1 OPTIONS',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    const answer = await rawRequest(transport, daemon.sipPort, Buffer.from(request, 'latin1'));
    expect(answer).toMatch(/^SIP\/2\.0 400 /);
    expect(answer).toMatch(/branch=z9hG4bK-nocallid-/);
    const after = await daemon.metrics();
    expect(delta(before, after, 'ringproof_sip_responses_total', { code: '400', transport })).toBe(1);
  });

  it('drops a message over sip.maxMessageBytes without an answer and counts it', async () => {
    const before = await daemon.metrics();
    const filler = `X-Filler: ${'a'.repeat(9000)}`;
    const request = [
      `OPTIONS sip:127.0.0.1:${daemon.sipPort} SIP/2.0`,
      `Via: SIP/2.0/${transport.toUpperCase()} 127.0.0.1:5999;branch=z9hG4bK-oversize-${transport}`,
      'Max-Forwards: 70',
      'From: <sip:probe@127.0.0.1>;tag=big',
      `To: <sip:127.0.0.1:${daemon.sipPort}>`,
      `Call-ID: oversize-${transport}@127.0.0.1`,
      'CSeq: 1 OPTIONS',
      filler,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    const answer = await rawRequest(transport, daemon.sipPort, Buffer.from(request, 'latin1'), 700);
    expect(answer).toBeUndefined();
    const after = await daemon.metrics();
    expect(delta(before, after, 'ringproof_sip_drops_total', { reason: 'oversize', transport })).toBe(1);
    expect(delta(before, after, 'ringproof_sip_requests_total', { method: 'OPTIONS', transport })).toBe(0);
  });

  // Last: its transactions wait for an ACK that never comes (timer H, 32 s).
  it('retransmits the final response until the ACK over UDP, never over TCP (uac-no-ack.xml)', async () => {
    const calls = 5;
    const before = await daemon.metrics();
    // No -nr: SIPp counts identical copies of the 486 as retransmissions only with its logic on.
    const r = await sipp({ scenario: 'uac-no-ack.xml', calls, rate: 20 });
    expectAllPassed(r, calls);
    const reject = sippMessage(r, '486');
    expect(reject.messages).toBe(calls);
    const after = await daemon.metrics();
    const responseOut = delta(before, after, 'ringproof_sip_retransmissions_total', { kind: 'response_out', transport });
    if (transport === 'udp') {
      // Timer G: copies at ~0.5 s and ~1.5 s within the scenario's 2.5 s wait, for every call.
      expect(reject.retrans).toBeGreaterThanOrEqual(2 * calls);
      expect(responseOut).toBeGreaterThanOrEqual(2 * calls);
      expect(delta(before, after, 'ringproof_sip_responses_total', { code: '486', transport })).toBeGreaterThanOrEqual(3 * calls);
    } else {
      expect(reject.retrans).toBe(0);
      expect(responseOut).toBe(0);
      expect(delta(before, after, 'ringproof_sip_responses_total', { code: '486', transport })).toBe(calls);
    }
    expect(delta(before, after, 'ringproof_call_events_total')).toBe(calls);
    // Still waiting for their ACKs (timer H has not fired).
    expect(after.get('ringproof_sip_transactions')).toBeGreaterThanOrEqual(calls);
  });
});

/** One request over a plain loopback socket; the first answer's text, or undefined after waitMs. */
function rawRequest(transport: Transport, port: number, data: Buffer, waitMs = 2000): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    if (transport === 'udp') {
      const s = createSocket('udp4');
      const done = (v: string | undefined): void => {
        clearTimeout(timer);
        s.close();
        resolve(v);
      };
      timer = setTimeout(() => done(undefined), waitMs);
      s.once('message', (msg) => done(msg.toString('latin1')));
      s.once('error', (err) => {
        clearTimeout(timer);
        s.close();
        reject(err);
      });
      s.bind(0, '127.0.0.1', () => s.send(data, port, '127.0.0.1'));
      return;
    }
    const s = createConnection({ port, host: '127.0.0.1' });
    let got = '';
    let settled = false;
    const done = (v: string | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      resolve(v);
    };
    timer = setTimeout(() => done(got === '' ? undefined : got), waitMs);
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      got += d;
      if (got.includes('\r\n\r\n')) done(got);
    });
    // The daemon closes a stream it cannot frame (oversize): that is "no answer".
    s.on('close', () => done(got === '' ? undefined : got));
    s.on('error', (err: NodeJS.ErrnoException) => {
      // A reset is the daemon closing on us, also "no answer"; anything else is a test failure.
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return done(got === '' ? undefined : got);
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(err);
      }
    });
    s.once('connect', () => s.write(data));
  });
}
