import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, REPO_ROOT, startDaemonProcess, type DaemonProcess } from '../helpers/daemon-process.js';
import { optionsStatus } from '../helpers/sip-client.js';

// What a user gets from `npm pack` + `npm install -g`: the tarball ships what serve needs (and no
// tests or benchmarks), and the installed `ringproof` bin starts a working demo with no config at all
// (embedded redis-server, loopback SIP) from a directory that is not the repository.
const run = promisify(execFile);
const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string; main?: string; bin: Record<string, string> };
const version = manifest.version;

describe('npm package', () => {
  const work = mkdtempSync(join(tmpdir(), 'rp-package-'));
  const prefix = join(work, 'prefix');
  const bin = join(prefix, 'bin', 'ringproof');
  // The node running this test comes first, so the bin's `#!/usr/bin/env node` runs the same runtime.
  const env = cleanEnv({ PATH: [dirname(process.execPath), process.env.PATH ?? ''].join(delimiter) });
  let files: string[] = [];
  let daemon: DaemonProcess | undefined;

  beforeAll(async () => {
    // `npm test` has built dist/; --ignore-scripts skips the prepack rebuild that a bare `npm pack` does.
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: REPO_ROOT, env, maxBuffer: 16 << 20 });
    const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    if (!info) throw new Error(`npm pack printed no package: ${packed.stdout}`);
    files = info.files.map((f) => f.path);
    // Dependencies come from npm's cache when it has them (a clean clone's `npm ci` filled it).
    await run('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(work, info.filename)], {
      cwd: work,
      env,
      maxBuffer: 16 << 20,
    });
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('ships what serve needs and leaves sources, tests and benchmarks out', () => {
    for (const needed of [
      'package.json',
      'README.md',
      'CHANGELOG.md',
      // Every entry point the manifest names must be in the tarball.
      ...Object.values(manifest.bin),
      ...(manifest.main === undefined ? [] : [manifest.main]),
      'config/ringproof.example.yaml',
      'config/number-deny-prefixes.txt',
      'openapi/openapi.json',
    ]) {
      expect(files, needed).toContain(needed);
    }
    const unwanted = files.filter((f) => /^(src|test|bench|fuzz|scripts|node_modules)\//.test(f) || /\.test\.[jt]s$/.test(f) || f.endsWith('.tgz'));
    expect(unwanted).toEqual([]);
  });

  it('installed globally, reports its version', async () => {
    const { stdout } = await run(bin, ['--version'], { cwd: work, env });
    expect(stdout.trim()).toBe(version);
  });

  it('installed globally, `ringproof serve` with no config answers health, readiness and SIP OPTIONS, and stops cleanly', async () => {
    const cwd = join(work, 'cwd');
    mkdirSync(cwd);
    daemon = await startDaemonProcess({
      command: [bin],
      cwd,
      // The out-of-the-box demo: no config file, default event sink (queue on an embedded redis-server).
      env: { PATH: env.PATH, RINGPROOF_EVENT_SINK: undefined },
      readyTimeoutMs: 30_000,
    });
    const health = await fetch(`${daemon.baseUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = (await (await fetch(`${daemon.baseUrl}/readyz`)).json()) as { status: string; checks: Record<string, boolean> };
    expect(ready).toMatchObject({ status: 'ready', checks: { redis: true, sip: true } });

    expect(await optionsStatus(daemon.sipPort, 'udp')).toBe(200);
    expect(await optionsStatus(daemon.sipPort, 'tcp')).toBe(200);

    // The shipped deny-prefix list is found inside the installed package, not in the repository.
    const policy = await daemon.logs.waitFor((r) => r.msg === 'number policy loaded');
    expect(policy.file).toBe(join(prefix, 'lib', 'node_modules', 'ringproof', 'config', 'number-deny-prefixes.txt'));
    expect(policy.denyPrefixes).toBeGreaterThan(0);
    const starting = await daemon.logs.waitFor((r) => r.msg === 'ringproof starting');
    expect(starting.version).toBe(version);

    expect(await daemon.stop('SIGTERM')).toBe(0);
    expect(daemon.logs.json().some((r) => r.msg === 'stopped')).toBe(true);
  }, 60_000);
});
