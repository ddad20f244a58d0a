import type { AbuseConfig } from '../config/config-types.js';

/**
 * Defaults of `abuse`. The flood guard lets a non-trunk source send 30 requests per 2 s (kamailio
 * pike's classic density) before a 2-minute ban; trunk addresses are exempt, since a carrier's
 * address carries every caller's calls. 100,000 sources cost about 10 MB at most. A CLI calling
 * 10 times within a minute with no pending session is blocked for an hour (auto:hammering); a number
 * block from which 20 distinct numbers call within 10 minutes is blocked for an hour (auto:enumeration).
 */
export function defaultAbuseConfig(): AbuseConfig {
  return {
    floodGuard: { enabled: true, windowMs: 2000, maxRequests: 30, banSeconds: 120, trunkMaxRequests: 0, maxSources: 100_000 },
    blocklist: { reloadSeconds: 30 },
    // 10 calls in a minute to a DID without any session for the number is no person retrying.
    hammering: { enabled: true, maxCalls: 10, windowSeconds: 60, blockSeconds: 3600, maxTracked: 10_000 },
    // 20 different numbers of one 10,000-number block in 10 minutes, none verifying anything, is a sweep.
    enumeration: { enabled: true, suffixDigits: 4, maxDistinct: 20, windowSeconds: 600, blockSeconds: 3600, maxTracked: 10_000 },
    webhookUrl: undefined,
  };
}
