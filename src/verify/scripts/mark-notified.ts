import type { LuaScript } from './lua-script.js';

/**
 * Records that the webhook for a session's terminal state was handed to the emitter, so later
 * duplicates stop re-emitting, and drops the emit claim. Guarded by the status so it never
 * resurrects an evicted session.
 *
 * KEYS: 1 session hash, 2 claim key
 * ARGV: 1 the status the webhook was about
 */
export const markNotifiedScript: LuaScript = {
  name: 'rpMarkVerificationNotified',
  numberOfKeys: 2,
  lua: `
redis.call('DEL', KEYS[2])
if redis.call('HGET', KEYS[1], 'status') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'notified', ARGV[1])
  return 1
end
return 0
`,
};
