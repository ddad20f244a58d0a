import type { DidPoolConfig } from '../config/config-types.js';

/**
 * A released DID rests 90 days (long enough for the numbers' published history to fade from the
 * lists and apps that called it), and is not put back in service while it still drew more than 10
 * unwanted calls (calls that concerned no session) in the last hour.
 */
export function defaultDidPoolConfig(): DidPoolConfig {
  return {
    quarantineDays: 90, restoreQuietMinutes: 60, restoreMaxUnwantedCalls: 10,
    // 10 minutes at ten times the rate of the 6 hours before (and at least 50 calls) is a DID that was
    // published or is being enumerated, not a busy hour; the flag stays a day unless removed.
    flag: { enabled: true, recentMinutes: 10, baselineMinutes: 360, factor: 10, minCalls: 50, seconds: 86_400 },
  };
}
