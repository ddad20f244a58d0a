import type { JobsOptions } from 'bullmq';

/**
 * Options of every "calls" batch job. A completed batch is removed at once (its calls' decisions are
 * kept by the batch script's dedupe buckets, not by the job), so Redis holds no per-call job state;
 * failed batches stay a week for inspection, capped. Processing is retried with exponential backoff.
 */
export const CALL_JOB_OPTIONS: Readonly<JobsOptions> = Object.freeze({
  removeOnComplete: true,
  removeOnFail: { age: 7 * 24 * 3600, count: 1000 },
  attempts: 8,
  backoff: { type: 'exponential', delay: 200 },
});
