import type { LuaScript } from './lua-script.js';

/**
 * Cancels a pending session; a terminal one stays as it is. Atomic with the call worker, so a
 * DELETE racing a verifying call ends in exactly one of the two states.
 *
 * KEYS: 1 session hash
 * ARGV: 1 now ms, 2 retention s
 * Returns {changed 0/1, HGETALL} or nil when unknown.
 */
export const cancelSessionScript: LuaScript = {
  name: 'rpCancelVerification',
  numberOfKeys: 1,
  lua: `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return nil end
local changed = 0
if status == 'pending' then
  redis.call('HSET', KEYS[1], 'status', 'cancelled', 'cancelReason', 'requested',
    'cancelledAt', ARGV[1], 'updatedAt', ARGV[1])
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  changed = 1
end
return {changed, redis.call('HGETALL', KEYS[1])}
`,
};
