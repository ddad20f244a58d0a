import type { LuaScript } from './lua-script.js';

/**
 * Creates a session, superseding the pending one for the same number, honouring an idempotency key.
 * One script so that two concurrent creates for one number leave exactly one pending session, and
 * two concurrent creates with one idempotency key create one session.
 *
 * The number joins the set of pending numbers (number → expiresAt + grace + late-evidence time;
 * entries past their time are dropped here) and is announced on the pending channel, inside this
 * script so before the API answers: the edges' pre-filter (PendingNumbers) sends calls from these
 * numbers ahead of the flood, and decides itself (as unsolicited) calls from numbers not in it once
 * its watermark shows the copy complete. Matching itself never reads it.
 *
 * KEYS: 1 session hash, 2 phone key, 3 match key (DID, number), 4 idempotency key, 5 pending numbers
 * ARGV: 1 id, 2 session key prefix, 3 use idempotency (0/1), 4 idempotency TTL s,
 *       5 record TTL s (window + retention), 6 retention s after a terminal state, 7 now ms,
 *       8 phone number, 9 pending-set score ms ('0' for a flash-call session: no call can match it, so
 *       neither the match key nor the pending set is written), 10 pending channel, 11.. field/value pairs
 * Returns {'replay', id, HGETALL} or {'created', id, supersededId or ''}.
 */
export const createSessionScript: LuaScript = {
  name: 'rpCreateVerification',
  numberOfKeys: 5,
  lua: `
local useIdem = ARGV[3] == '1'
if useIdem then
  local existing = redis.call('GET', KEYS[4])
  if existing then
    local h = redis.call('HGETALL', ARGV[2] .. existing)
    if #h > 0 then return {'replay', existing, h} end
  end
end
local superseded = ''
local prev = redis.call('GET', KEYS[2])
if prev and prev ~= ARGV[1] then
  local pkey = ARGV[2] .. prev
  if redis.call('HGET', pkey, 'status') == 'pending' then
    redis.call('HSET', pkey, 'status', 'cancelled', 'cancelReason', 'superseded',
      'cancelledAt', ARGV[7], 'updatedAt', ARGV[7], 'supersededBy', ARGV[1])
    redis.call('EXPIRE', pkey, ARGV[6])
    superseded = prev
  end
end
local fields = {}
for i = 11, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[5])
if useIdem then redis.call('SET', KEYS[4], ARGV[1], 'EX', ARGV[4]) end
if ARGV[9] ~= '0' then
  redis.call('SET', KEYS[3], ARGV[1], 'EX', ARGV[5])
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', '(' .. ARGV[7])
  redis.call('ZADD', KEYS[5], 'GT', ARGV[9], ARGV[8])
  redis.call('PUBLISH', ARGV[10], ARGV[8] .. ' ' .. ARGV[9])
end
return {'created', ARGV[1], superseded}
`,
};
