import type { Logger } from 'pino';
import type { CreationCheck, CreationNotes, CreationRefusal } from '../api/creation-checks.js';
import type { LimitWindow } from '../config/config-types.js';
import { ErrorCodes } from '../errors/codes.js';
import { runScript, type LuaScript, type RedisClient } from '../verify/scripts/lua-script.js';

/** Seconds a client is told to wait when the counter cannot be reached. */
const UNREACHABLE_RETRY_AFTER_SECONDS = 5;

/**
 * One flash call for a number from its window, unless the window is full (a fixed window started
 * by its first call, like the creation limits').
 *
 * KEYS: 1 the number's counter; ARGV: 1 count, 2 window ms
 * Returns 0 when taken, else the ms until the window ends.
 */
const takeFlashScript: LuaScript = {
  name: 'rpTakeFlashCall',
  numberOfKeys: 1,
  lua: `
if tonumber(redis.call('GET', KEYS[1]) or '0') >= tonumber(ARGV[1]) then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then
    ttl = tonumber(ARGV[2])
    redis.call('PEXPIRE', KEYS[1], ttl)
  end
  return ttl
end
if redis.call('INCR', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`,
};

/** Gives one back (the session was not stored); an ended window is left alone. KEYS and ARGV as above. */
const returnFlashScript: LuaScript = {
  name: 'rpReturnFlashCall',
  numberOfKeys: 1,
  lua: `
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
return 0
`,
};

/**
 * The per-destination throttle of flash calls (outbound.perNumber): a number gets at most `count`
 * flash calls per window, whoever asks, so nobody can have ringproof ring a phone again and again.
 * A creation check for method flash_call only; counted in Redis, shared by every API process, and
 * given back when the session is not stored after all.
 */
export function flashThrottleCheck(opts: { redis: RedisClient; prefix: string; window: LimitWindow; logger: Logger }): CreationCheck {
  const { redis, prefix, window, logger } = opts;
  const taken = new WeakMap<CreationNotes, string>();
  const args = [window.count, window.windowSeconds * 1000];
  return {
    name: 'flash-throttle',
    async check(req, notes): Promise<CreationRefusal | undefined> {
      if (req.method !== 'flash_call' || window.count === 0) return undefined;
      const key = `${prefix}:lim:flash:${window.windowSeconds}:${req.phoneNumber}`;
      let waitMs: number;
      try {
        waitMs = Number(await runScript(redis, takeFlashScript, [key], args));
      } catch (err) {
        logger.warn({ err }, 'flash throttle: counter unreachable, creation refused');
        return { status: 503, code: ErrorCodes.API_UNAVAILABLE, message: 'the flash-call throttle cannot be checked right now', field: null, retryAfterSeconds: UNREACHABLE_RETRY_AFTER_SECONDS };
      }
      if (waitMs === 0) {
        taken.set(notes, key);
        return undefined;
      }
      const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
      return {
        status: 429,
        code: ErrorCodes.FLASH_THROTTLED,
        message: `this number was rung ${window.count} times in ${window.windowSeconds} s (outbound.perNumber); retry after ${retryAfterSeconds} s or use method inbound_call`,
        retryAfterSeconds,
        details: { count: window.count, windowSeconds: window.windowSeconds, retryAfterSeconds },
      };
    },
    async released(_req, notes) {
      const key = taken.get(notes);
      if (key === undefined) return;
      taken.delete(notes);
      await runScript(redis, returnFlashScript, [key], args).catch((err: unknown) => {
        logger.warn({ err }, 'flash throttle: could not give back a call that was not placed');
      });
    },
  };
}
