import type { CallLimitsConfig } from '../config/config-types.js';

/**
 * The call limits, in the order a call over several is named by: the most specific first (a CLI
 * sweeping the DID pool is that before it is a CLI calling too often).
 */
export const CALL_LIMITS = ['perCliDids', 'perCli', 'perDid', 'perTrunk'] as const;
export type CallLimitName = (typeof CALL_LIMITS)[number];

/** The outcome detail (and session lastRejection reason) of a call refused by each limit. */
export const CALL_LIMIT_OUTCOMES = {
  perCliDids: 'limit_cli_dids',
  perCli: 'limit_cli',
  perDid: 'limit_did',
  perTrunk: 'limit_trunk',
} as const satisfies Record<CallLimitName, string>;
export type CallLimitOutcome = (typeof CALL_LIMIT_OUTCOMES)[CallLimitName];

const OUTCOMES: ReadonlySet<string> = new Set(Object.values(CALL_LIMIT_OUTCOMES));

export function isCallLimitOutcome(value: unknown): value is CallLimitOutcome {
  return typeof value === 'string' && OUTCOMES.has(value);
}

/**
 * Only calls that could verify (their CLI has a pending session) are counted. A user calls the DID
 * the app showed once, maybe again after a busy tone: 10 calls from one CLI in 10 minutes is not a
 * user, nor are calls from one CLI to more than 3 distinct DIDs of the pool in an hour (a spoofer
 * sweeping the pool for the DID the victim's session was given). The DID and trunk limits are
 * backstops against a flood of spoofed candidate calls, sized well above what the creation limits
 * let through; a deployment sets perTrunk to what its trunks carry.
 */
export function defaultCallLimits(): CallLimitsConfig {
  return {
    enabled: true,
    perCli: { count: 10, windowSeconds: 600 },
    perCliDids: { count: 3, windowSeconds: 3600 },
    perDid: { count: 1200, windowSeconds: 60 },
    perTrunk: { count: 0, windowSeconds: 60 },
  };
}
