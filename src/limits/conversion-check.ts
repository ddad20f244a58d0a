import type { Logger } from 'pino';
import type { CreationCheck, CreationRefusal } from '../api/creation-checks.js';
import type { ConversionConfig } from '../config/config-types.js';
import { ErrorCodes } from '../errors/codes.js';
import type { RedisClient } from '../verify/scripts/lua-script.js';
import type { CreateLimitMetrics } from './create-limit-metrics.js';
import { conversionKeys } from './conversion-keys.js';

/** The limit name in a refusal's body and in ringproof_creation_limited_total. */
export const LOW_CONVERSION = 'lowConversion';

/**
 * The low-conversion throttle as a creation check (after the creation limits): a number prefix whose
 * sessions rarely verify (at least minCreated created in the current and previous window, fewer
 * than minRate of them verified) gets only throttle.count creations per throttle.windowSeconds,
 * refused beyond with 429 RP_CREATION_LIMITED naming `lowConversion`. The throttle lets a few
 * through so that a prefix of real users recovers as their calls verify. Creations are counted
 * here once stored (created), verifications by the call worker (countVerified).
 * Counters unreachable: the check lets the creation go on (the creation limits already refused it
 * with 503 if Redis were down; this one is a heuristic, not a guard to fail closed on).
 */
export function conversionCheck(opts: {
  redis: RedisClient;
  prefix: string;
  conversion: ConversionConfig;
  metrics: CreateLimitMetrics;
  logger: Logger;
  clock?: () => number;
}): CreationCheck {
  const { redis, prefix, conversion: c, metrics, logger } = opts;
  const clock = opts.clock ?? Date.now;
  return {
    name: 'low-conversion',
    async check(req): Promise<CreationRefusal | undefined> {
      if (!c.enabled) return undefined;
      const k = conversionKeys(prefix, c, req.phoneNumber, clock());
      try {
        const counts = (await redis.mget(...k.created, ...k.verified)).map((v) => Number(v ?? 0));
        const created = (counts[0] ?? 0) + (counts[1] ?? 0);
        const verified = (counts[2] ?? 0) + (counts[3] ?? 0);
        if (created < c.minCreated || verified >= c.minRate * created) return undefined;
        const taken = await redis.incr(k.throttle);
        if (taken === 1) await redis.pexpire(k.throttle, c.throttle.windowSeconds * 1000);
        if (taken <= c.throttle.count) return undefined;
        const ttl = await redis.pttl(k.throttle);
        const retryAfterSeconds = Math.max(1, Math.ceil((ttl > 0 ? ttl : c.throttle.windowSeconds * 1000) / 1000));
        metrics.limited.inc({ limit: LOW_CONVERSION });
        logger.info({ limit: LOW_CONVERSION, prefix: k.subject, created, verified, principal: req.principal, retryAfterSeconds }, 'creation limited');
        return {
          status: 429,
          code: ErrorCodes.CREATION_LIMITED,
          message: `numbers with this prefix rarely verify (${verified} of ${created} sessions): at most ${c.throttle.count} per ${c.throttle.windowSeconds} s; retry after ${retryAfterSeconds} s`,
          field: 'phoneNumber',
          retryAfterSeconds,
          details: { limit: LOW_CONVERSION, count: c.throttle.count, windowSeconds: c.throttle.windowSeconds, retryAfterSeconds, created, verified },
        };
      } catch (err) {
        logger.warn({ err }, 'low-conversion throttle: counters unreachable, creation not judged');
        return undefined;
      }
    },
    created(req) {
      if (!c.enabled) return;
      const k = conversionKeys(prefix, c, req.phoneNumber, clock());
      redis.multi().incr(k.created[0]).expire(k.created[0], k.ttlSeconds).exec()
        .catch((err: unknown) => logger.warn({ err }, 'low-conversion throttle: a creation could not be counted'));
    },
  };
}

/** The call worker's half: counts verified sessions by their number (the verified call's CLI). */
export async function countVerified(redis: RedisClient, prefix: string, c: ConversionConfig, numbers: readonly string[], now: number): Promise<void> {
  if (!c.enabled || numbers.length === 0) return;
  const m = redis.multi();
  for (const n of numbers) {
    const k = conversionKeys(prefix, c, n, now);
    m.incr(k.verified[0]).expire(k.verified[0], k.ttlSeconds);
  }
  await m.exec();
}
