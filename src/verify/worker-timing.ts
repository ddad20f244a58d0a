/**
 * BullMQ lock and stalled-job timing for ringproof's workers. Call and expiry jobs take
 * milliseconds, so a dead worker's jobs can be taken over after seconds rather than BullMQ's
 * default 30 s + 30 s, which would hold a verification far past the user's patience. The lock is
 * renewed every lockDuration/2, so a busy but live worker keeps its jobs.
 */
export const WORKER_TIMING = Object.freeze({
  lockDuration: 10_000,
  stalledInterval: 5_000,
  maxStalledCount: 3,
});
