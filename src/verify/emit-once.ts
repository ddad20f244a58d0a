import type { Cluster, Redis } from 'ioredis';
import { claimEmitScript, releaseEmitScript } from './scripts/claim-emit.js';
import { runScript } from './scripts/lua-script.js';
import { markNotifiedScript } from './scripts/mark-notified.js';
import type { VerificationStatus } from './verification-types.js';
import type { VerifyKeys } from './verify-keys.js';

/**
 * Longer than any emit takes (a direct POST waited for at most DIRECT_ATTEMPT_WAIT_MS, then a queue add);
 * shorter than BullMQ's stalled-job lock (30 s).
 */
export const DEFAULT_EMIT_LEASE_MS = 15_000;

/**
 * Runs `emit` for a session's terminal status unless it was already done or another delivery holds
 * the claim. Resolves true when this call emitted. On failure the claim is released and the error
 * rethrown so the job is retried.
 *
 * `token` names the work that owns the emit (the session's expiry), not the attempt: a retry
 * finds its own claim and emits. Its emit is a queue add deduped by event id, so two deliveries
 * emitting is harmless there. The verified webhook's claim belongs to one attempt instead, kept
 * alive by its holder (see emit-claim-liveness.ts), since its direct POST is not deduped.
 */
export async function emitOnce(
  redis: Redis | Cluster,
  keys: VerifyKeys,
  sessionId: string,
  status: VerificationStatus,
  token: string,
  emit: () => Promise<void>,
  leaseMs = DEFAULT_EMIT_LEASE_MS,
): Promise<boolean> {
  const sessionKey = keys.sessionKey(sessionId);
  const claimKey = keys.emitClaimKey(sessionId, status);
  const claimed = Number(await runScript(redis, claimEmitScript, [sessionKey, claimKey], [status, token, leaseMs]));
  if (claimed !== 1) return false;
  await emitClaimed(redis, keys, sessionId, status, token, emit);
  return true;
}

/**
 * The part of emitOnce after the claim, for callers that took the claim themselves (the call
 * worker takes it inside its decision script, saving a round trip): emits, then marks notified
 * and drops the claim; on failure releases the claim and rethrows.
 */
export async function emitClaimed(
  redis: Redis | Cluster,
  keys: VerifyKeys,
  sessionId: string,
  status: VerificationStatus,
  token: string,
  emit: () => Promise<void>,
): Promise<void> {
  const claimKey = keys.emitClaimKey(sessionId, status);
  try {
    await emit();
  } catch (err) {
    await runScript(redis, releaseEmitScript, [claimKey], [token]).catch(() => undefined);
    throw err;
  }
  await markNotified(redis, keys, sessionId, status);
}

/** Marks the session's webhook for `status` sent and drops the emit claim; idempotent. */
export async function markNotified(redis: Redis | Cluster, keys: VerifyKeys, sessionId: string, status: VerificationStatus): Promise<void> {
  await runScript(redis, markNotifiedScript, [keys.sessionKey(sessionId), keys.emitClaimKey(sessionId, status)], [status]);
}
