import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { claimEmitScript, releaseEmitScript } from './scripts/claim-emit.js';
import { runScript } from './scripts/lua-script.js';
import { markNotifiedScript } from './scripts/mark-notified.js';
import type { VerificationStatus } from './verification-types.js';
import type { VerifyKeys } from './verify-keys.js';

/** Longer than any emit (a queue add) takes; shorter than BullMQ's stalled-job lock (30 s). */
export const DEFAULT_EMIT_LEASE_MS = 15_000;

/**
 * Runs `emit` for a session's terminal status unless it was already done or another delivery holds
 * the claim. Resolves true when this call emitted. On failure the claim is released and the error
 * rethrown so the job is retried.
 */
export async function emitOnce(
  redis: Redis | Cluster,
  keys: VerifyKeys,
  sessionId: string,
  status: VerificationStatus,
  emit: () => Promise<void>,
  leaseMs = DEFAULT_EMIT_LEASE_MS,
): Promise<boolean> {
  const sessionKey = keys.sessionKey(sessionId);
  const claimKey = keys.emitClaimKey(sessionId, status);
  const token = randomBytes(8).toString('hex');
  const claimed = Number(await runScript(redis, claimEmitScript, [sessionKey, claimKey], [status, token, leaseMs]));
  if (claimed !== 1) return false;
  try {
    await emit();
  } catch (err) {
    await runScript(redis, releaseEmitScript, [claimKey], [token]).catch(() => undefined);
    throw err;
  }
  await runScript(redis, markNotifiedScript, [sessionKey, claimKey], [status]);
  return true;
}
