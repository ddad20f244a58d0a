import type { LuaScript } from '../verify/scripts/lua-script.js';
import { CREATE_LIMITS } from './create-limit-defaults.js';

/**
 * Takes one creation from every limit's window, or from none. A window is a counter that expires
 * `windowSeconds` after the first creation it counted (a fixed window started by use). The counters
 * share the configured key prefix's {hash tag}, so the script is one slot on Redis Cluster too.
 *
 * KEYS: one counter per limit, in CREATE_LIMITS order
 * ARGV: per key, its count (0 = off: not read, not counted) then its window in ms
 * Returns {0, 0} when taken, or {i, ms until key i's window ends} when limit i is full.
 */
export const takeCreationScript: LuaScript = {
  name: 'rpTakeCreation',
  numberOfKeys: CREATE_LIMITS.length,
  lua: `
for i = 1, #KEYS do
  local limit = tonumber(ARGV[2 * i - 1])
  if limit > 0 and tonumber(redis.call('GET', KEYS[i]) or '0') >= limit then
    local ttl = redis.call('PTTL', KEYS[i])
    if ttl < 0 then
      -- A counter without an expiry would refuse for ever: give it its window back.
      ttl = tonumber(ARGV[2 * i])
      redis.call('PEXPIRE', KEYS[i], ttl)
    end
    return {i, ttl}
  end
end
for i = 1, #KEYS do
  if tonumber(ARGV[2 * i - 1]) > 0 and redis.call('INCR', KEYS[i]) == 1 then
    redis.call('PEXPIRE', KEYS[i], ARGV[2 * i])
  end
end
return {0, 0}
`,
};

/**
 * Gives a taken creation back (the session was not stored after all, or was an idempotent replay).
 * A window that has ended in between is left alone, so nothing is created without an expiry.
 *
 * KEYS and ARGV as takeCreationScript.
 */
export const returnCreationScript: LuaScript = {
  name: 'rpReturnCreation',
  numberOfKeys: CREATE_LIMITS.length,
  lua: `
for i = 1, #KEYS do
  if tonumber(ARGV[2 * i - 1]) > 0 and tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then
    redis.call('DECR', KEYS[i])
  end
end
return 0
`,
};
