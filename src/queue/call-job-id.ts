import { createHash } from 'node:crypto';

/**
 * The BullMQ job id of a call: hex SHA-1 of its Call-ID. BullMQ ids cannot contain ":" (Call-IDs
 * often do), and a fixed id per call makes adding the same call twice a no-op, which absorbs
 * carrier resends with a fresh transaction and our own re-sends after a spool replay.
 */
export function callJobId(callId: string): string {
  const hex = createHash('sha1').update(callId, 'utf8').digest('hex');
  // BullMQ rejects ids that look like integers; an all-digit SHA-1 is astronomically rare, but a
  // rejected id would wedge the spool, so make it non-numeric.
  return /^\d+$/.test(hex) ? `c${hex}` : hex;
}
