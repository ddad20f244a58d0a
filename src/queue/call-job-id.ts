import { createHash } from 'node:crypto';
import type { CallEvent } from '../edge/call-event.js';

/**
 * The BullMQ job id of a batch: hex SHA-1 of its Call-IDs. A batch re-sent from the spool after its
 * reply was lost (read back with the same boundaries) gets the same id, so adding it again while the
 * first is still queued is a no-op; once that job is gone, the Call-ID dedupe of the batch script
 * absorbs the resend. BullMQ ids cannot contain ":" (Call-IDs often do).
 */
export function batchJobId(events: readonly CallEvent[]): string {
  const h = createHash('sha1');
  for (const e of events) h.update(e.callId, 'utf8').update('\n');
  const hex = h.digest('hex');
  // BullMQ rejects ids that look like integers; an all-digit SHA-1 is astronomically rare, but a
  // rejected id would wedge the spool, so make it non-numeric.
  return /^\d+$/.test(hex) ? `c${hex}` : hex;
}
