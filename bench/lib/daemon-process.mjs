// One `ringproof serve` process (node dist/…/main.js serve) for the bench, on free loopback ports with its own state
// directory: the SIP-only edge of the sip mode, the role-all daemon of the e2e/product modes, and each
// process of a split-roles deployment all start here.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, spawnTail, stopChild, waitReady } from './child-process.mjs';
import { daemonEntry } from './daemon-entry.mjs';
import { freePort } from './free-port.mjs';

/**
 * Starts the daemon with `env` (RINGPROOF_* settings) on top of a clean environment, plus
 * RINGPROOF_HTTP_LISTEN and RINGPROOF_STATE_DIR it picks itself, and RINGPROOF_SIP_LISTEN (UDP and TCP
 * on one free port) when `sip` is set. Resolves once /readyz answers 200.
 */
export async function startDaemonProcess({ root, env, sip = false, what, timeoutMs = 20_000, cpuProfDir, stopGraceMs = 20_000 }) {
  const sipPort = sip ? await freePort() : undefined;
  const httpPort = await freePort();
  const stateDir = mkdtempSync(join(tmpdir(), 'ringproof-bench-state-'));
  const fullEnv = {
    ...cleanEnv(),
    RINGPROOF_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
    RINGPROOF_STATE_DIR: stateDir,
    RINGPROOF_LOG_LEVEL: 'warn',
    ...(sip ? { RINGPROOF_SIP_LISTEN: `udp:127.0.0.1:${sipPort},tcp:127.0.0.1:${sipPort}` } : {}),
    ...env,
  };
  const entry = daemonEntry(root);
  if (!entry) throw new Error('the daemon is not built (no dist/command-line/main.js or dist/cli/main.js): run `npm run build`');
  const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const { child, tail } = spawnTail(process.execPath, [...nodeArgs, entry, 'serve'], { cwd: root, env: fullEnv });
  try {
    await waitReady({ httpPort, child, tail, what, timeoutMs });
  } catch (err) {
    rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
  return {
    pid: child.pid,
    sipPort,
    httpPort,
    stateDir,
    output: () => tail.out,
    alive: () => tail.exited === undefined,
    stop: async () => {
      await stopChild(child, tail, stopGraceMs);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
