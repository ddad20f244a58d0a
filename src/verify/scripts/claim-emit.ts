import type { LuaScript } from './lua-script.js';

/**
 * Claims the right to emit a session's webhook for one terminal status, so that concurrent
 * deliveries of one call (a replayed job racing the original) hand it over once. The claim is a
 * lease: if its holder dies, it lapses and the holder's retried job claims again.
 *
 * KEYS: 1 session hash, 2 claim key
 * ARGV: 1 status the webhook is about, 2 claim token, 3 lease ms
 * Returns 1 when claimed (also when this token already holds the claim), 0 when already notified
 * or claimed by other work.
 */
export const claimEmitScript: LuaScript = {
  name: 'rpClaimVerificationEmit',
  numberOfKeys: 2,
  lua: `
if redis.call('HGET', KEYS[1], 'notified') == ARGV[1] then return 0 end
if redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3], 'NX') then return 1 end
if redis.call('GET', KEYS[2]) == ARGV[2] then
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  return 1
end
return 0
`,
};

/**
 * Gives a claim back after a failed emit, so the retry need not wait for the lease. Only the
 * holder's token releases it.
 *
 * KEYS: 1 claim key; ARGV: 1 claim token
 */
export const releaseEmitScript: LuaScript = {
  name: 'rpReleaseVerificationEmit',
  numberOfKeys: 1,
  lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
};

/**
 * The holder of a call's emit claim renews it while its webhook is in flight (see ClaimRenewal):
 * a claim renewed within the last few seconds has a live holder.
 *
 * KEYS: 1 claim key; ARGV: 1 claim token, 2 lease ms
 */
export const renewEmitClaimScript: LuaScript = {
  name: 'rpRenewVerificationEmit',
  numberOfKeys: 1,
  lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`,
};

/**
 * For an attempt that found a verified session's webhook owed but the claim held by another attempt
 * (see awaitEmitClaim): claims it if it is free, or takes it over from `stale holder` when the caller
 * has watched that holder stop renewing it and it is still not renewed.
 *
 * KEYS: 1 session hash, 2 claim key
 * ARGV: 1 status, 2 claim token, 3 lease ms, 4 PTTL below which the claim counts as not renewed,
 *       5 the stale holder to take over from ('' = none), 6 '1' when that holder is known dead (taken
 *       over even if renewed lately)
 * Returns {0} when there is nothing to emit (notified, or the session is not in that status),
 * {1, HGETALL} when the caller now holds the claim, {2, holder, not renewed 0/1} while another holds it.
 */
export const awaitEmitClaimScript: LuaScript = {
  name: 'rpAwaitVerificationEmit',
  numberOfKeys: 2,
  lua: `
local s = redis.call('HMGET', KEYS[1], 'notified', 'status')
if s[1] == ARGV[1] or s[2] ~= ARGV[1] then return {0} end
local holder = redis.call('GET', KEYS[2])
local stale = holder and redis.call('PTTL', KEYS[2]) < tonumber(ARGV[4])
if not holder or holder == ARGV[2] or (holder == ARGV[5] and (stale or ARGV[6] == '1')) then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
  return {1, redis.call('HGETALL', KEYS[1])}
end
if stale then return {2, holder, 1} end
return {2, holder, 0}
`,
};
