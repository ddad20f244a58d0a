import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startDaemonProcess } from './daemon-process.mjs';
import { childrenNamed, processTree } from './proc-stats.mjs';

/** A fresh Standard Webhooks secret: "whsec_" + base64 of 32 random bytes. */
export function newWebhookSecret() {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** `count` DIDs from the fictional +1 555 01xx range (never routed), the same as the demo pool's. */
export function benchDids(count) {
  return Array.from({ length: count }, (_, i) => `+1555010${String(i + 1).padStart(4, '0')}`);
}

/** A daemon's process tree as a target's processes: the daemon itself as `name`, its children by command name (redis-server). */
export function daemonProcs(pid, name = 'ringproof') {
  return processTree(pid).map((p) => ({ name: p.pid === pid ? name : p.comm, pid: p.pid }));
}

/** The settings every daemon the bench starts for verifications runs with (all and split layouts). */
export function benchDaemonEnv({ webhookUrl, secret, dids }) {
  return {
    RINGPROOF_WEBHOOK_URL: webhookUrl,
    RINGPROOF_WEBHOOK_ALLOW_PRIVATE_TARGETS: '127.0.0.0/8', // the receiver is on loopback
    // One client creating thousands of sessions an hour is the bench, not abuse.
    RINGPROOF_CREATE_LIMITS_ENABLED: 'false',
    RINGPROOF_CALL_LIMITS_ENABLED: 'false',
    RINGPROOF_WEBHOOK_SECRETS: secret,
    RINGPROOF_DIDS: dids.join(','),
  };
}

/**
 * Starts the whole daemon (role all: edge, worker, API) as users run it with no Redis URL: it then
 * starts and supervises its own embedded redis-server in a temporary state dir. Webhooks go to
 * `webhookUrl`, signed with `secret`. Resolves once /readyz answers 200, with the pids of the daemon
 * and of its redis-server (for their CPU) and the address of that redis-server's socket.
 */
export async function startE2eDaemon({ root, webhookUrl, secret, dids, cpuProfDir, env: extraEnv = {} }) {
  const env = { RINGPROOF_ROLE: 'all', ...benchDaemonEnv({ webhookUrl, secret, dids }), ...extraEnv };
  // The embedded redis-server starts first (AOF replay included), so allow more than the SIP-only bench.
  const d = await startDaemonProcess({ root, env, sip: true, what: 'ringproof (role all)', timeoutMs: 40_000, cpuProfDir, stopGraceMs: 30_000 });
  const redisPid = childrenNamed(d.pid, 'redis-server')[0];
  return {
    ...d,
    redisPid,
    // The embedded redis-server's socket (src/redis/embedded-redis.ts: stateDir/redis/redis.sock).
    redisAddr: { path: join(d.stateDir, 'redis', 'redis.sock') },
    procs: () => daemonProcs(d.pid),
  };
}
