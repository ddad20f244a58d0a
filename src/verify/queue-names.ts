/** BullMQ queue names used by the verify side (all under the hash-tagged BullMQ `prefix`). */
export { CALLS_QUEUE } from '../queue/queue-names.js';
export const EXPIRY_QUEUE = 'expiry';

/** Job id of a session's expiry job (BullMQ ids may not contain ':'). */
export function expiryJobId(sessionId: string): string {
  return `exp_${sessionId}`;
}

export interface ExpiryJobData {
  id: string;
}

/** Flash calls to place (issue #12): one job per flash-call session, taken by the worker that owns the UAC. */
export const FLASH_QUEUE = 'flash';

/** Job id of a session's flash call: one per session, so a retried creation never rings twice. */
export function flashJobId(sessionId: string): string {
  return `fl_${sessionId}`;
}

export interface FlashJobData {
  id: string;
}

/** The 'flash' queue's delayed job that falls back a call left unreported (outbound.reportWindowSeconds). */
export const FLASH_FALLBACK_JOB = 'fallback';

/** One per session, so the fallback of a call that rang is scheduled, and done, at most once. */
export function flashFallbackJobId(sessionId: string): string {
  return `fb_${sessionId}`;
}
