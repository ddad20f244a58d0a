/**
 * Trunk configuration seen from the wire, with real SIPp against the real daemon started from a YAML
 * config file: a trunk's reject code, and what a source outside every trunk gets (403, or silence with
 * sip.unknownSource: drop).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDaemonProcess, type DaemonProcess } from '../helpers/daemon-process.js';
import { metricDelta } from '../helpers/metrics-scrape.js';
import { describeSipp, runSipp, sippMessage } from '../helpers/sipp.js';

const TRANSPORTS = ['udp', 'tcp'] as const;
/** The SIP side alone: no Redis needed, CallEvents go to the log sink. */
const EDGE_ONLY = { RINGPROOF_ROLE: 'edge' };

let dir: string;
let daemon: DaemonProcess | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rp-sip-acl-'));
});

afterEach(async () => {
  if (daemon) {
    const d = daemon;
    daemon = undefined;
    expect(await d.stop()).toBe(0);
  }
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(name: string, yaml: string): string {
  const file = join(dir, name);
  // A short grace keeps the stop of a daemon with unacknowledged transactions quick.
  writeFileSync(file, `shutdownGraceSeconds: 1\n${yaml}`);
  return file;
}

/** Only trunk: the documentation range 192.0.2.0/24, so 127.0.0.1 is an unknown source. */
const FOREIGN_TRUNK = `trunks:
  - name: carrier-a
    sources: [192.0.2.0/24]
    defaultCountry: GB
    rejectCode: 486
`;

describe('trunk ACL and reject code', () => {
  it('answers with the trunk rejectCode 603 (the load scenario accepts it) and labels the trunk', async () => {
    daemon = await startDaemonProcess({
      env: EDGE_ONLY,
      configFile: writeConfig('lab.yaml', `trunks:
  - name: lab
    sources: [127.0.0.0/8]
    defaultCountry: GB
    rejectCode: 603
    cliSources: [pai, from]
`),
    });
    for (const transport of TRANSPORTS) {
      const calls = 20;
      const before = await daemon.metrics();
      const r = await runSipp({
        scenario: 'uac-reject.xml', injection: 'callers.csv', transport, target: `127.0.0.1:${daemon.sipPort}`, calls, rate: 100, timeoutMs: 15_000,
      });
      expect(r.exitCode, describeSipp(r)).toBe(0);
      expect(r.stats.successful).toBe(calls);
      expect(sippMessage(r, '603').messages).toBe(calls);
      expect(sippMessage(r, '486').messages).toBe(0);
      const after = await daemon.metrics();
      expect(metricDelta(before, after, 'ringproof_sip_responses_total', { code: '603', transport })).toBeGreaterThanOrEqual(calls);
      expect(metricDelta(before, after, 'ringproof_sip_requests_total', { method: 'INVITE', transport, trunk: 'lab' })).toBe(calls);
      expect(metricDelta(before, after, 'ringproof_call_events_total', { trunk: 'lab', cli_origin: 'from' })).toBe(calls);
    }
  });

  it('answers 403 to an INVITE from outside every trunk, counts it and makes no CallEvent', async () => {
    daemon = await startDaemonProcess({ env: EDGE_ONLY, configFile: writeConfig('reject.yaml', `${FOREIGN_TRUNK}sip:\n  unknownSource: reject\n`) });
    for (const transport of TRANSPORTS) {
      const calls = 5;
      const before = await daemon.metrics();
      const r = await runSipp({
        scenario: 'uac-reject.xml', injection: 'callers.csv', transport, target: `127.0.0.1:${daemon.sipPort}`, calls, rate: 50, timeoutMs: 15_000,
      });
      // The load scenario expects 486/603: every call fails on the unexpected 403.
      expect(r.exitCode, describeSipp(r)).toBe(1);
      expect(r.stats.failed).toBe(calls);
      expect(r.stats.counters.FailedUnexpectedMessage).toBe(calls);
      expect(r.errors).toMatch(/SIP\/2\.0 403 Forbidden/);
      const after = await daemon.metrics();
      expect(metricDelta(before, after, 'ringproof_sip_requests_total', { method: 'INVITE', transport, trunk: 'unknown' })).toBe(calls);
      expect(metricDelta(before, after, 'ringproof_sip_responses_total', { code: '403', transport })).toBe(calls);
      expect(metricDelta(before, after, 'ringproof_call_events_total')).toBe(0);
    }
  });

  it('with sip.unknownSource: drop, answers nothing and counts the drops', async () => {
    daemon = await startDaemonProcess({ env: EDGE_ONLY, configFile: writeConfig('drop.yaml', `${FOREIGN_TRUNK}sip:\n  unknownSource: drop\n`) });
    for (const transport of TRANSPORTS) {
      const calls = 3;
      const before = await daemon.metrics();
      const r = await runSipp({
        scenario: 'uac-reject.xml', injection: 'callers.csv', transport, target: `127.0.0.1:${daemon.sipPort}`, calls, rate: 20,
        recvTimeoutMs: 1200, timeoutMs: 10_000,
      });
      expect(r.exitCode, describeSipp(r)).toBe(1);
      expect(r.timedOut).toBe(false);
      expect(r.stats.failed).toBe(calls);
      expect(r.stats.counters.FailedTimeoutOnRecv).toBe(calls);
      const after = await daemon.metrics();
      // UDP: SIPp also retransmits each INVITE once (500 ms) before giving up; every copy is dropped.
      const drops = metricDelta(before, after, 'ringproof_sip_drops_total', { reason: 'unknown_source', transport });
      if (transport === 'udp') expect(drops).toBeGreaterThanOrEqual(calls);
      else expect(drops).toBe(calls);
      expect(metricDelta(before, after, 'ringproof_sip_responses_total', { transport })).toBe(0);
      expect(metricDelta(before, after, 'ringproof_sip_requests_total', { transport })).toBe(0);
      expect(metricDelta(before, after, 'ringproof_call_events_total')).toBe(0);
    }
  });
});
