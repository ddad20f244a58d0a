import type { LuaScript } from '../../verify/scripts/lua-script.js';

/**
 * Creation time (ms) of the job at the head of a BullMQ queue's prioritized set, or 0 when it is
 * empty: how long the unsolicited lane has been waiting. Reads BullMQ's job hash (field "timestamp").
 *
 * KEYS: 1 the queue's prioritized sorted set; ARGV: 1 the queue's key prefix ("<prefix>:calls:").
 */
export const oldestPrioritizedScript: LuaScript = {
  name: 'rpOldestPrioritizedJob',
  numberOfKeys: 1,
  lua: `
local head = redis.call('ZRANGE', KEYS[1], 0, 0)
if #head == 0 then return 0 end
return tonumber(redis.call('HGET', ARGV[1] .. head[1], 'timestamp') or '0')
`,
};
