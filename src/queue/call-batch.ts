import type { CallEvent } from '../edge/call-event.js';

/**
 * The data of one "calls" job: the CallEvents of one edge flush. One job per batch keeps the queue's
 * work per call a small fraction of a job (add, fetch, complete and its event-stream entry are paid
 * per batch). A job holding a bare CallEvent (written before batches existed) is read as a batch of one.
 */
export interface CallBatch {
  v: 1;
  events: CallEvent[];
}

/** Name of each job in the "calls" queue. */
export const CALL_BATCH_JOB_NAME = 'calls';

/** The events of a job's data, whichever form it has; unknown shapes yield the data as one event to judge. */
export function batchEvents(data: unknown): unknown[] {
  const b = data as Partial<CallBatch> | null;
  if (b && typeof b === 'object' && b.v === 1 && Array.isArray(b.events)) return b.events;
  return [data];
}
