import type { DidPoolConfig } from '../config/config-types.js';

/**
 * A released DID rests 90 days (long enough for the numbers' published history to fade from the
 * lists and apps that called it), and is not put back in service while it still drew more than 10
 * unwanted calls (calls that concerned no session) in the last hour.
 */
export function defaultDidPoolConfig(): DidPoolConfig {
  return { quarantineDays: 90, restoreQuietMinutes: 60, restoreMaxUnwantedCalls: 10 };
}
