import type { LuaScript } from './lua-script.js';

/**
 * Marks a still-pending session expired once its window has passed.
 *
 * KEYS: 1 session hash
 * ARGV: 1 now ms, 2 retention s
 * Returns {kind, HGETALL-or-expiresAt} where kind is:
 *   'expired'  this call moved it pending → expired;
 *   'already'  it was expired before (a retry after a crash: the caller re-emits if not notified);
 *   'not_yet'  still inside its window (job ran early, e.g. clock skew): second item is expiresAt;
 *   'terminal' verified/cancelled/blocked: nothing to do;
 *   'missing'  no such session (retention elapsed).
 */
export const expireSessionScript: LuaScript = {
  name: 'rpExpireVerification',
  numberOfKeys: 1,
  lua: `
local f = redis.call('HMGET', KEYS[1], 'status', 'expiresAt')
local status = f[1]
if not status then return {'missing', {}} end
if status == 'expired' then return {'already', redis.call('HGETALL', KEYS[1])} end
if status ~= 'pending' then return {'terminal', {}} end
if tonumber(ARGV[1]) < tonumber(f[2]) then return {'not_yet', f[2]} end
redis.call('HSET', KEYS[1], 'status', 'expired', 'expiredAt', ARGV[1], 'updatedAt', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return {'expired', redis.call('HGETALL', KEYS[1])}
`,
};
