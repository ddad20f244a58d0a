/**
 * The flood guard seen from the wire, with real SIPp against the real daemon: a flood from one
 * address outside every trunk gets banned and then silence, while the trunk's calls, sent at the
 * same time, are all answered; the ban expires and the source is answered again.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemonProcess, type DaemonProcess } from '../helpers/daemon-process.js';
import { metricDelta } from '../helpers/metrics-scrape.js';
import { describeSipp, runSipp, sippMessage } from '../helpers/sipp.js';

let dir: string;
let daemon: DaemonProcess;

const MAX_REQUESTS = 20;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rp-flood-'));
  const file = join(dir, 'flood.yaml');
  writeFileSync(file, `shutdownGraceSeconds: 1
trunks:
  - name: carrier
    sources: [127.0.0.1/32]
    defaultCountry: GB
abuse:
  floodGuard:
    windowMs: 5000
    maxRequests: ${MAX_REQUESTS}
    banSeconds: 3
`);
  daemon = await startDaemonProcess({ env: { RINGPROOF_ROLE: 'edge' }, configFile: file, transports: ['udp'] });
});

afterAll(async () => {
  expect(await daemon.stop()).toBe(0);
  rmSync(dir, { recursive: true, force: true });
});

describe('flood guard', () => {
  it('bans a flooding non-trunk address (then silence) while the trunk is answered throughout, and lifts the ban on expiry', async () => {
    const target = `127.0.0.1:${daemon.sipPort}`;
    const before = await daemon.metrics();
    const flood = 120;
    const trunkCalls = 60;
    const [attacker, trunk] = await Promise.all([
      runSipp({
        scenario: 'uac-flood.xml', transport: 'udp', target, calls: flood, rate: 200,
        extraArgs: ['-i', '127.0.0.2', '-nr'], recvTimeoutMs: 300, timeoutMs: 20_000,
      }),
      runSipp({
        scenario: 'uac-reject.xml', injection: 'callers.csv', transport: 'udp', target, calls: trunkCalls, rate: 100, timeoutMs: 20_000,
      }),
    ]);
    // The trunk (127.0.0.1, exempt by default) gets every answer.
    expect(trunk.exitCode, describeSipp(trunk)).toBe(0);
    expect(sippMessage(trunk, '486').messages).toBe(trunkCalls);
    // The attacker gets 403 up to the limit, then nothing.
    expect(sippMessage(attacker, '403').messages, describeSipp(attacker)).toBe(MAX_REQUESTS);
    expect(attacker.stats.counters.FailedTimeoutOnRecv).toBe(flood - MAX_REQUESTS);
    const after = await daemon.metrics();
    expect(metricDelta(before, after, 'ringproof_sip_drops_total', { reason: 'flood_ban', transport: 'udp' })).toBe(flood - MAX_REQUESTS);
    expect(metricDelta(before, after, 'ringproof_flood_bans_total', { trunk: 'no' })).toBe(1);
    expect(metricDelta(before, after, 'ringproof_call_events_total', { trunk: 'carrier' })).toBe(trunkCalls);
    expect(after.get('ringproof_flood_bans')).toBe(1);
    const ban = await daemon.logs.waitFor((r) => r.msg === 'flood guard: source banned');
    expect(ban).toMatchObject({ source: '127.0.0.*', trunk: false, level: 'warn' });

    // The ban lapses (3 s) and the source is answered again.
    await daemon.logs.waitFor((r) => r.msg === 'flood guard: ban expired', 10_000);
    expect((await daemon.metrics()).get('ringproof_flood_bans')).toBe(0);
    const again = await runSipp({
      scenario: 'uac-flood.xml', transport: 'udp', target, calls: 3, rate: 10, extraArgs: ['-i', '127.0.0.2', '-nr'], recvTimeoutMs: 2000, timeoutMs: 10_000,
    });
    expect(again.exitCode, describeSipp(again)).toBe(0);
    expect(sippMessage(again, '403').messages).toBe(3);
  });
});
