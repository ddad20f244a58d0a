/**
 * Start-up errors as an operator meets them: a bad configuration makes `ringproof serve` exit non-zero
 * at once with ONE line on stderr naming the bad key (no stack trace, no half-started daemon), and
 * `ringproof config check` says the same without starting anything.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRingproof } from '../helpers/daemon-process.js';
import { freePort } from '../helpers/free-port.js';

let dir: string;
let good: string;
let badValue: string;
let badKey: string;
/** Listen on free loopback ports, so a daemon that wrongly starts cannot take 5060/8080. */
let listenEnv: Record<string, string>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rp-startup-'));
  good = join(dir, 'good.yaml');
  writeFileSync(good, `trunks:
  - name: carrier-a
    sources: [192.0.2.0/24, "2001:db8::/32"]
    defaultCountry: GB
    rejectCode: 603
sip:
  unknownSource: drop
events:
  sink: log
`);
  badValue = join(dir, 'bad-value.yaml');
  writeFileSync(badValue, 'sip:\n  maxMessageBytes: lots\n');
  badKey = join(dir, 'bad-key.yaml');
  writeFileSync(badKey, 'sip:\n  unknownSorce: drop\n');
  const port = await freePort();
  listenEnv = {
    RINGPROOF_SIP_LISTEN: `udp:127.0.0.1:${port},tcp:127.0.0.1:${port}`,
    RINGPROOF_HTTP_LISTEN: `127.0.0.1:${await freePort()}`,
    RINGPROOF_STATE_DIR: dir,
    RINGPROOF_EVENT_SINK: 'log',
  };
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const lines = (text: string): string[] => text.split('\n').filter((l) => l.trim() !== '');

describe('start-up errors', () => {
  it('serve with a bad value exits non-zero with one stderr line naming the key', async () => {
    const r = await runRingproof(['serve', '--config', badValue], { env: listenEnv, timeoutMs: 15_000 });
    expect(r.signal).toBeNull();
    expect(r.exitCode).not.toBe(0);
    expect(r.exitCode).toBe(78);
    const err = lines(r.stderr);
    expect(err, r.stderr).toHaveLength(1);
    expect(err[0]).toContain('sip.maxMessageBytes');
    expect(err[0]).toContain('lots');
    expect(err[0]).not.toMatch(/\bat .+\.js:\d+/); // no stack trace
  });

  it('serve with an unknown key exits non-zero naming the key', async () => {
    const r = await runRingproof(['serve', '--config', badKey], { env: listenEnv, timeoutMs: 15_000 });
    expect(r.exitCode).toBe(78);
    const err = lines(r.stderr);
    expect(err, r.stderr).toHaveLength(1);
    expect(err[0]).toContain('sip.unknownSorce');
  });

  it('serve with a bad environment override names the setting', async () => {
    const r = await runRingproof(['serve'], { env: { ...listenEnv, RINGPROOF_SIP_LISTEN: 'udp:not-an-ip:5060' }, timeoutMs: 15_000 });
    expect(r.exitCode).toBe(78);
    const err = lines(r.stderr);
    expect(err, r.stderr).toHaveLength(1);
    expect(err[0]).toContain('sip.listen');
  });

  it('config check accepts a good file and summarises it on stdout', async () => {
    const r = await runRingproof(['config', 'check', good], { env: listenEnv });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('OK');
    expect(r.stdout).toContain('1 trunk(s)');
  });

  it('config check rejects a bad file with one stderr line naming the key', async () => {
    for (const [file, key] of [[badValue, 'sip.maxMessageBytes'], [badKey, 'sip.unknownSorce']] as const) {
      const r = await runRingproof(['config', 'check', file], { env: listenEnv });
      expect(r.exitCode).not.toBe(0);
      expect(r.stdout).toBe('');
      const err = lines(r.stderr);
      expect(err, r.stderr).toHaveLength(1);
      expect(err[0]).toContain(key);
    }
  });
});
