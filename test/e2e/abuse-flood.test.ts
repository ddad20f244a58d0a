/**
 * The flood guard seen from the wire, with real SIPp against the real daemon: a flood from one
 * address outside every trunk gets banned and then silence, while the trunk's calls, sent at the
 * same time, are all answered; the ban expires and the source is answered again.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemonProcess, type DaemonProcess } from '../helpers/daemon-process.js';
import { metricDelta } from '../helpers/metrics-scrape.js';
import { describeSipp, runSipp, sippMessage } from '../helpers/sipp.js';
import { waitUntil } from '../helpers/verify-e2e.js';

let dir: string;
let file: string;
let daemon: DaemonProcess;

const MAX_REQUESTS = 20;

const floodConfig = (floodGuard: string): string => `shutdownGraceSeconds: 1
trunks:
  - name: carrier
    sources: [127.0.0.1/32]
    defaultCountry: GB
abuse:
  floodGuard:
${floodGuard}
`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rp-flood-'));
  file = join(dir, 'flood.yaml');
  writeFileSync(file, floodConfig(`    windowMs: 5000\n    maxRequests: ${MAX_REQUESTS}\n    banSeconds: 3`));
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

  it('abuse.floodGuard reloads on SIGHUP with the trunk answered throughout; a bad file is refused and the guard in force stays', async () => {
    const target = `127.0.0.1:${daemon.sipPort}`;
    const verdicts = (msg: string): Record<string, unknown>[] => daemon.logs.json().filter((r) => r.msg === msg);
    const hup = async (text: string, msg: string): Promise<Record<string, unknown>> => {
      writeFileSync(`${file}.tmp`, text);
      renameSync(`${file}.tmp`, file);
      const before = verdicts(msg).length;
      daemon.child.kill('SIGHUP');
      return waitUntil(`"${msg}"`, () => verdicts(msg)[before], 10_000, 20);
    };
    const flood = (source: string, calls: number) => runSipp({
      scenario: 'uac-flood.xml', transport: 'udp', target, calls, rate: 200, extraArgs: ['-i', source, '-nr'], recvTimeoutMs: 300, timeoutMs: 20_000,
    });
    const trunkCalls = 100;
    // The trunk keeps calling while the guard is reloaded, tightened and flooded.
    const trunk = runSipp({ scenario: 'uac-reject.xml', injection: 'callers.csv', transport: 'udp', target, calls: trunkCalls, rate: 50, timeoutMs: 30_000 });
    const tight = await hup(floodConfig('    windowMs: 5000\n    maxRequests: 5\n    banSeconds: 60'), 'SIGHUP: configuration reloaded');
    expect(tight.applied).toEqual(['abuse.floodGuard']);
    const first = await flood('127.0.0.3', 30);
    expect(sippMessage(first, '403').messages, describeSipp(first)).toBe(5);

    // A bad value: refused with the start-up error line, and the tight guard stays.
    const refused = await hup(floodConfig('    maxRequests: -1'), 'SIGHUP: configuration refused; the previous one stays in force');
    expect(String(refused.error)).toMatch(/RP_CONFIG_INVALID: abuse\.floodGuard\.maxRequests: /);
    const second = await flood('127.0.0.4', 30);
    expect(sippMessage(second, '403').messages, describeSipp(second)).toBe(5);

    // Turned off: every source is answered again, the ones banned a moment ago too.
    const off = await hup(floodConfig('    enabled: false'), 'SIGHUP: configuration reloaded');
    expect(off.applied).toEqual(['abuse.floodGuard']);
    const third = await flood('127.0.0.3', 30);
    expect(sippMessage(third, '403').messages, describeSipp(third)).toBe(30);

    const t = await trunk;
    expect(t.exitCode, describeSipp(t)).toBe(0);
    expect(sippMessage(t, '486').messages).toBe(trunkCalls);
  });
});
