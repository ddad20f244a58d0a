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
