import type { Cluster, Redis } from 'ioredis';
import { awaitEmitClaimScript, renewEmitClaimScript } from './scripts/claim-emit.js';
import { pairsToRecord, runScript } from './scripts/lua-script.js';
import type { VerificationStatus } from './verification-types.js';
import type { VerifyKeys } from './verify-keys.js';

/**
 * A verified webhook's emit claim belongs to one attempt at a calls job, and its holder renews it
 * every CLAIM_RENEW_MS until the webhook is marked sent. Another attempt that finds the webhook owed
 * and the claim held waits (awaitEmitClaim), and takes the claim over only after watching it go
 * unrenewed for `staleMs` of its own unbroken contact with Redis. A Redis failover breaks everyone's
 * contact, so it never makes a live holder look dead, however long it lasts (up to the lease).
 */

/** The claim's expiry in Redis: only a bound for a holder nobody watches; longer than any failover. */
export const CALL_EMIT_LEASE_MS = 120_000;
/** How often a holder renews its claim. */
export const CLAIM_RENEW_MS = 1000;
/** A claim renewed less than this long ago has a live holder: two renewals, plus slack for a busy event loop. */
export const CLAIM_FRESH_MS = 2 * CLAIM_RENEW_MS + 500;
/** How long a waiting attempt watches a claim go unrenewed before it takes it over. */
export const DEFAULT_CLAIM_STALE_MS = 5000;
/** How often a waiting attempt looks at the claim. */
const WATCH_EVERY_MS = 200;
/** Longer than this between two answers from Redis, and the watch starts again (contact was broken). */
const MAX_WATCH_GAP_MS = 1500;

/** Renews one claim until stopped; failures (Redis away) are left to the next renewal. */
export class ClaimRenewal {
  private readonly timer: NodeJS.Timeout;

  constructor(redis: Redis | Cluster, claimKey: string, token: string) {
    this.timer = setInterval(() => {
      runScript(redis, renewEmitClaimScript, [claimKey], [token, CALL_EMIT_LEASE_MS]).catch(() => undefined);
    }, CLAIM_RENEW_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export interface AwaitClaimOptions {
  /** How long the claim must be seen unrenewed before it is taken over (DEFAULT_CLAIM_STALE_MS). */
  staleMs: number;
  /** True for a holder known dead without watching (an attempt of this process that is over). */
  isDeadHolder?: (holder: string) => boolean;
  clock?: () => number;
}

/**
 * Waits until the webhook for `status` is marked sent (resolves undefined) or this attempt holds
 * the claim (resolves the session's fields, to emit from). Ends within the lease at most, while
 * Redis answers: an unwatched claim expires then.
 */
export async function awaitEmitClaim(
  redis: Redis | Cluster,
  keys: VerifyKeys,
  sessionId: string,
  status: VerificationStatus,
  token: string,
  opts: AwaitClaimOptions,
): Promise<Record<string, string> | undefined> {
  const clock = opts.clock ?? Date.now;
  const claimKeys = [keys.sessionKey(sessionId), keys.emitClaimKey(sessionId, status)];
  const notRenewedBelow = CALL_EMIT_LEASE_MS - CLAIM_FRESH_MS;
  let watched: { holder: string; since: number } | undefined;
  let lastAnswer = -Infinity;
  let takeFrom = '';
  let dead = '0';
  for (;;) {
    let reply: unknown[] | undefined;
    try {
      reply = (await runScript(redis, awaitEmitClaimScript, claimKeys, [status, token, CALL_EMIT_LEASE_MS, notRenewedBelow, takeFrom, dead])) as unknown[];
    } catch {
      reply = undefined;
    }
    const now = clock();
    if (reply === undefined || now - lastAnswer > MAX_WATCH_GAP_MS) watched = undefined;
    if (reply !== undefined) {
      lastAnswer = now;
      const state = Number(reply[0]);
      if (state === 0) return undefined;
      if (state === 1) return pairsToRecord(reply[1]);
      const holder = String(reply[1]);
      const stale = Number(reply[2]) === 1;
      if (opts.isDeadHolder?.(holder)) {
        takeFrom = holder;
        dead = '1';
        continue;
      }
      dead = '0';
      if (!stale) watched = undefined;
      else if (watched?.holder !== holder) watched = { holder, since: now };
      takeFrom = watched !== undefined && now - watched.since >= opts.staleMs ? watched.holder : '';
    }
    await new Promise((r) => setTimeout(r, WATCH_EVERY_MS));
  }
}
