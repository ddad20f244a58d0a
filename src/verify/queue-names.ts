/** BullMQ queue names used by the verify side (all under the hash-tagged BullMQ `prefix`). */
export const CALLS_QUEUE = 'calls';
export const EXPIRY_QUEUE = 'expiry';

/** Job id of a session's expiry job (BullMQ ids may not contain ':'). */
export function expiryJobId(sessionId: string): string {
  return `exp_${sessionId}`;
}

export interface ExpiryJobData {
  id: string;
}
