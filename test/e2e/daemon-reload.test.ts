import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRingproof, startDaemonProcess, type DaemonProcess } from '../helpers/daemon-process.js';
import { metricDelta } from '../helpers/metrics-scrape.js';
import { parseResponse, UdpSipClient } from '../helpers/sip-client.js';
import { describeSipp, runSipp, sippMessage } from '../helpers/sipp.js';
import { createVerification, waitUntil } from '../helpers/verify-e2e.js';

// SIGHUP: trunks, DIDs, creation limits, the unknown-source policy and the log level are reloaded in place; a bad
// file is refused with the start-up error line and the configuration in force stays; no INVITE
// goes unanswered while reloads happen under load.

interface Trunk { name: string; rejectCode: 486 | 603 }

const DIDS = ['+15550100001', '+15550100002'];

function configYaml(trunk: Trunk, opts: { logLevel?: string; t1Ms?: number; rejectCodeText?: string; dids?: string[]; perNumber?: number } = {}): string {
  return [
    `limits: { create: { perNumber: { count: ${opts.perNumber ?? 5}, windowSeconds: 600 } } }`,
    `log: { level: ${opts.logLevel ?? 'info'} }`,
    `sip: { t1Ms: ${opts.t1Ms ?? 500} }`,
    `dids: ${JSON.stringify(opts.dids ?? DIDS)}`,
    'trunks:',
    `  - name: ${trunk.name}`,
    '    sources: [127.0.0.0/8]',
    '    defaultCountry: US',
    `    rejectCode: ${opts.rejectCodeText ?? trunk.rejectCode}`,
    '',
  ].join('\n');
}

let n = 0;
function invite(port: number): string {
  n++;
  return [
    'INVITE sip:+15550100001@127.0.0.1 SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-reload-${n};rport`,
    'Max-Forwards: 70',
    `From: <sip:+14155550123@127.0.0.1>;tag=rl${n}`,
    'To: <sip:+15550100001@127.0.0.1>',
    `Call-ID: reload-${n}@test`,
    'CSeq: 1 INVITE',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('SIGHUP configuration reload', () => {
  let dir: string;
  let file: string;
  let daemon: DaemonProcess;
  let sip: UdpSipClient;

  /** Replaces the file in one rename, so the daemon never reads half of it. */
  const writeConfig = (text: string): void => {
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  };
  const reloads = (msg: string): number => daemon.logs.json().filter((r) => r.msg === msg).length;
  /** Sends SIGHUP and waits for the daemon's verdict on it (the record after `before` of that kind). */
  const hup = async (msg: string): Promise<Record<string, unknown>> => {
    const before = reloads(msg);
    daemon.child.kill('SIGHUP');
    await waitUntil(`"${msg}"`, () => (reloads(msg) > before ? true : undefined), 10_000, 20);
    return daemon.logs.json().filter((r) => r.msg === msg).at(-1) as Record<string, unknown>;
  };
  const callStatus = async (): Promise<number | undefined> => {
    const before = sip.received.length;
    await sip.send(invite(sip.port), daemon.sipPort);
    const got = await sip.waitFor(before + 1, 10_000);
    return parseResponse(got[before]?.data as Buffer)?.status;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rp-reload-'));
    file = join(dir, 'ringproof.yaml');
    writeConfig(configYaml({ name: 'alpha', rejectCode: 486 }));
    // No RINGPROOF_LOG_LEVEL (nor the creation-limit switch): it would win over the file's setting.
    daemon = await startDaemonProcess({ configFile: file, env: { RINGPROOF_LOG_LEVEL: undefined, RINGPROOF_CREATE_LIMITS_ENABLED: undefined } });
    sip = await UdpSipClient.open();
  });

  afterAll(async () => {
    await sip?.close();
    await daemon?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('puts new trunks, DIDs, creation limits and the log level in force, and names the keys that need a restart', async () => {
    expect(await callStatus()).toBe(486);
    expect(DIDS).toContain((await createVerification(daemon.baseUrl, { phoneNumber: '+14155550199' })).callTo);
    const before = await daemon.metrics();
    writeConfig(configYaml({ name: 'beta', rejectCode: 603 }, { logLevel: 'debug', t1Ms: 400, dids: ['+15550100077'], perNumber: 1 }));
    const done = await hup('SIGHUP: configuration reloaded');
    expect([...(done.applied as string[])].sort()).toEqual(['dids', 'limits.create', 'log.level', 'trunks']);
    // The number already had its one creation of the new perNumber limit (count 1).
    const limited = await fetch(`${daemon.baseUrl}/v1/verifications`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ phoneNumber: '+14155550199' }),
    });
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('RP_CREATION_LIMITED');
    // New verifications draw from the new pool.
    for (let i = 0; i < 3; i++) {
      expect((await createVerification(daemon.baseUrl, { phoneNumber: `+1415555020${i}` })).callTo).toBe('+15550100077');
    }
    const later = await daemon.logs.waitFor((r) => r.msg === 'SIGHUP: these keys changed but take effect only after a restart; they keep their old values');
    expect(later.keys).toEqual(['sip.t1Ms']);

    expect(await callStatus()).toBe(603);
    const after = await daemon.metrics();
    expect(metricDelta(before, after, 'ringproof_call_events_total', { trunk: 'beta' })).toBe(1);
    expect(after.get('ringproof_call_events_total', { trunk: 'alpha' })).toBe(1);
    // log.level debug is in force: debug records now appear (the log sink writes call events at debug).
    await daemon.logs.waitFor((r) => r.level === 'debug', 10_000);
    expect(daemon.running()).toBe(true);
  });

  it('refuses a bad file with the start-up error line and keeps the configuration in force', async () => {
    writeConfig(configYaml({ name: 'gamma', rejectCode: 486 }, { rejectCodeText: '480' }));
    // What start-up says about the same file.
    const startup = await runRingproof(['serve', '--config', file], { env: { RINGPROOF_STATE_DIR: dir } });
    expect(startup.exitCode).toBe(78);
    const startupLine = startup.stderr.trim();
    expect(startupLine).toMatch(/^ringproof: RP_CONFIG_INVALID: trunks\[0\]\.rejectCode: /);

    const stderrBefore = daemon.logs.stderr.length;
    const refused = await hup('SIGHUP: configuration refused; the previous one stays in force');
    expect(refused.error).toBe(startupLine);
    expect(daemon.logs.stderr.slice(stderrBefore)).toContain(startupLine);
    // Still beta (603), not gamma, and still running.
    expect(await callStatus()).toBe(603);
    expect(daemon.running()).toBe(true);
  });

  it('answers every INVITE while reloads switch the trunk back and forth under load', async () => {
    const calls = 600;
    const before = await daemon.metrics();
    const target = `127.0.0.1:${daemon.sipPort}`;
    const load = runSipp({ scenario: 'uac-reject.xml', injection: 'callers.csv', transport: 'udp', target, calls, rate: 200, timeoutMs: 60_000 });
    let running = true;
    void load.finally(() => { running = false; });
    let flips = 0;
    // Alternate alpha (486) and beta (603) as long as SIPp runs, each reload confirmed by the daemon.
    while (running) {
      const next: Trunk = flips % 2 === 0 ? { name: 'alpha', rejectCode: 486 } : { name: 'beta', rejectCode: 603 };
      writeConfig(configYaml(next, { logLevel: 'info' }));
      await hup('SIGHUP: configuration reloaded');
      flips++;
    }
    const r = await load;
    expect(r.exitCode, describeSipp(r)).toBe(0);
    expect(r.stats.successful, describeSipp(r)).toBe(calls);
    expect(r.stats.failed, describeSipp(r)).toBe(0);
    expect(flips).toBeGreaterThanOrEqual(2);
    const answered486 = sippMessage(r, '486').messages;
    const answered603 = sippMessage(r, '603').messages;
    expect(answered486 + answered603).toBe(calls);
    expect(answered486 > 0 && answered603 > 0, `486: ${answered486}, 603: ${answered603} over ${flips} reloads`).toBe(true);

    const after = await daemon.metrics();
    const events = ['alpha', 'beta'].map((trunk) => metricDelta(before, after, 'ringproof_call_events_total', { trunk }));
    expect((events[0] as number) + (events[1] as number)).toBe(calls);
    expect(metricDelta(before, after, 'ringproof_sip_invite_to_final_seconds_count')).toBe(calls);
    expect(metricDelta(before, after, 'ringproof_sip_requests_total', { trunk: 'unknown' })).toBe(0);
  });
});
