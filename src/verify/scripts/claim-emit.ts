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
