import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, spawnTail, stopChild, waitReady } from './child-process.mjs';
import { freePort } from './free-port.mjs';
import { childrenNamed } from './proc-stats.mjs';

/** A fresh Standard Webhooks secret: "whsec_" + base64 of 32 random bytes. */
export function newWebhookSecret() {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** `count` DIDs from the fictional +1 555 01xx range (never routed), the same as the demo pool's. */
export function benchDids(count) {
  return Array.from({ length: count }, (_, i) => `+1555010${String(i + 1).padStart(4, '0')}`);
}

/**
 * Starts the whole daemon (role all: edge, worker, API) as users run it with no Redis URL: it then
 * starts and supervises its own embedded redis-server (AOF, appendfsync always) in a temporary state
 * dir. Webhooks go to `webhookUrl`, signed with `secret`. Resolves once /readyz answers 200, with the
 * pids of the daemon and of its redis-server (for their CPU).
 */
export async function startE2eDaemon({ root, webhookUrl, secret, dids, cpuProfDir }) {
  const sipPort = await freePort();
  const httpPort = await freePort();
  const stateDir = mkdtempSync(join(tmpdir(), 'ringproof-bench-e2e-'));
  const env = {
    ...cleanEnv(),
    RINGPROOF_ROLE: 'all',
    RINGPROOF_SIP_LISTEN: `udp:127.0.0.1:${sipPort},tcp:127.0.0.1:${sipPort}`,
    RINGPROOF_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
    RINGPROOF_STATE_DIR: stateDir,
    RINGPROOF_WEBHOOK_URL: webhookUrl,
    RINGPROOF_WEBHOOK_ALLOW_PRIVATE_TARGETS: '127.0.0.0/8', // the receiver is on loopback
    RINGPROOF_WEBHOOK_SECRETS: secret,
    RINGPROOF_DIDS: dids.join(','),
    RINGPROOF_LOG_LEVEL: 'warn',
  };
  const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const { child, tail } = spawnTail(process.execPath, [...nodeArgs, join(root, 'dist/command-line/main.js'), 'serve'], { cwd: root, env });
  // The embedded redis-server starts first (AOF replay included), so allow more than the SIP-only bench.
  await waitReady({ httpPort, child, tail, what: 'ringproof (role all)', timeoutMs: 40_000 });
  const redisPid = childrenNamed(child.pid, 'redis-server')[0];
  return {
    pid: child.pid,
    redisPid,
    sipPort,
    httpPort,
    stateDir,
    output: () => tail.out,
    alive: () => tail.exited === undefined,
    stop: async () => {
      await stopChild(child, tail, 30_000);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
