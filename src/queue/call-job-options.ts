import type { JobsOptions } from 'bullmq';

/**
 * Options of every "calls" job. Retention is bounded so Redis memory does not grow with traffic:
 * completed jobs are kept an hour (capped at 100 000, enough for dedupe of late resends), failed
 * ones a day for inspection. Processing is retried with exponential backoff.
 */
export const CALL_JOB_OPTIONS: Readonly<JobsOptions> = Object.freeze({
  removeOnComplete: { age: 3600, count: 100_000 },
  removeOnFail: { age: 86_400 },
  attempts: 5,
  backoff: { type: 'exponential', delay: 200 },
});
