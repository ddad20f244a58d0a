import type { LuaScript } from './lua-script.js';

/**
 * The fallback to the inbound flow (outbound.fallback inbound_call), written once for both its
 * causes (a failed call, a call not reported in time): the DID becomes the session's callTo, and the
 * match key and the pending set (with its announcement to the edges) are written as a creation
 * writes them, so the user's call to the DID verifies the session until expiresAt.
 * Lua expressions in: the DID, the cause, the session's number and id, now, the pending-set score,
 * the pending channel. KEYS: 1 session hash, 2 match key, 3 pending numbers.
 */
function fallbackLua(e: { did: string; reason: string; number: string; id: string; now: string; score: string; channel: string }): string {
  return `
  redis.call('HSET', KEYS[1], 'callTo', ${e.did}, 'flashFallback', 'inbound_call', 'flashFallbackReason', ${e.reason}, 'flashFallbackAt', ${e.now}, 'updatedAt', ${e.now})
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then redis.call('SET', KEYS[2], ${e.id}, 'PX', ttl) end
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ${e.now})
  redis.call('ZADD', KEYS[3], 'GT', ${e.score}, ${e.number})
  redis.call('PUBLISH', ${e.channel}, ${e.number} .. ' ' .. ${e.score})`;
}

/**
 * The flash-call session's transitions (issue #12), each one script so that the worker placing the
 * call, the API taking reports and the expiry worker never overwrite each other's decisions.
 */

/**
 * The worker takes a queued flash call: only a session still pending, still `queued` and inside its
 * window is rung, so a job handed out again (a worker that died mid-call) never rings twice.
 *
 * KEYS: 1 session hash; ARGV: 1 now ms
 * Returns {'start', phoneNumber, expiresAt} or {'skip', status, flashState}.
 */
export const flashStartScript: LuaScript = {
  name: 'rpFlashStart',
  numberOfKeys: 1,
  lua: `
local f = redis.call('HMGET', KEYS[1], 'status', 'flashState', 'expiresAt', 'phoneNumber')
if f[1] ~= 'pending' or f[2] ~= 'queued' then return {'skip', f[1] or '', f[2] or ''} end
if tonumber(ARGV[1]) >= tonumber(f[3]) then return {'skip', 'window_over', f[2]} end
redis.call('HSET', KEYS[1], 'flashState', 'calling', 'flashStartedAt', ARGV[1], 'updatedAt', ARGV[1])
return {'start', f[4], f[3]}
`,
};

/**
 * Progress of the call in flight (placed on a trunk, ringing): recorded while the attempt has no
 * outcome yet. Ringing records the caller ID that a report must name.
 *
 * KEYS: 1 session hash; ARGV: 1 now ms, 2.. field/value pairs
 * Returns the session (HGETALL), or {} when the session is gone.
 */
export const flashProgressScript: LuaScript = {
  name: 'rpFlashProgress',
  numberOfKeys: 1,
  lua: `
local state = redis.call('HGET', KEYS[1], 'flashState')
if not state then return {} end
if state == 'calling' or state == 'ringing' then
  local fields = {}
  for i = 2, #ARGV do fields[#fields + 1] = ARGV[i] end
  redis.call('HSET', KEYS[1], 'updatedAt', ARGV[1], unpack(fields))
end
return redis.call('HGETALL', KEYS[1])
`,
};

/**
 * The call's outcome and SIP history. A failed call turns a still-pending session into an inbound
 * one when a fallback DID is given (outbound.fallback, see fallbackLua). Without one, the session
 * expires at once: nothing can verify it any more.
 *
 * KEYS: 1 session hash, 2 the match key (DID, number) or any key when no DID, 3 pending numbers
 * ARGV: 1 now ms, 2 retention s, 3 state (rang, answered, failed), 4 failure class or '',
 *       5 attempts JSON, 6 the caller ID shown on the phone or '', 7 fallback DID or '',
 *       8 pending-set score ms, 9 pending channel
 * Returns {'fallback' | 'expired' | 'recorded' | 'missing', HGETALL}.
 */
export const flashResultScript: LuaScript = {
  name: 'rpFlashResult',
  numberOfKeys: 3,
  lua: `
local f = redis.call('HMGET', KEYS[1], 'status', 'phoneNumber', 'id')
local status = f[1]
if not status then return {'missing', {}} end
redis.call('HSET', KEYS[1], 'flashState', ARGV[3], 'flashAttempts', ARGV[5], 'updatedAt', ARGV[1])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'flashClass', ARGV[4]) end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'flashCli', ARGV[6]) end
if ARGV[3] == 'failed' and status == 'pending' and ARGV[7] ~= '' then
${fallbackLua({ did: 'ARGV[7]', reason: "'failed'", number: 'f[2]', id: 'f[3]', now: 'ARGV[1]', score: 'ARGV[8]', channel: 'ARGV[9]' })}
  return {'fallback', redis.call('HGETALL', KEYS[1])}
end
if ARGV[3] == 'failed' and status == 'pending' then
  redis.call('HSET', KEYS[1], 'status', 'expired', 'expiredAt', ARGV[1])
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  return {'expired', redis.call('HGETALL', KEYS[1])}
end
return {'recorded', redis.call('HGETALL', KEYS[1])}
`,
};

/**
 * The fallback of a call that rang (or was answered) but got no correct report within
 * outbound.reportWindowSeconds (the delayed 'fallback' job of the flash queue): a session still
 * pending, rung, not fallen back yet and inside its window gets the DID as a failed call does. At
 * most once: a run again (a retried job) finds flashFallback set and answers 'already', so the
 * caller re-sends the same webhook (same event id) without a second transition or audit entry.
 *
 * KEYS: 1 session hash, 2 the match key (DID, number), 3 pending numbers
 * ARGV: 1 now ms, 2 DID, 3 ms added to expiresAt for the pending-set score, 4 pending channel
 * Returns {'fallback' | 'already', HGETALL} or {'skip', why}.
 */
export const flashUnreportedScript: LuaScript = {
  name: 'rpFlashUnreported',
  numberOfKeys: 3,
  lua: `
local f = redis.call('HMGET', KEYS[1], 'status', 'phoneNumber', 'id', 'flashState', 'expiresAt', 'flashFallback')
if not f[1] then return {'skip', 'missing'} end
if f[6] and f[6] ~= '' then return {'already', redis.call('HGETALL', KEYS[1])} end
if f[1] ~= 'pending' then return {'skip', f[1]} end
if f[4] ~= 'rang' and f[4] ~= 'answered' then return {'skip', f[4] or ''} end
if tonumber(ARGV[1]) >= tonumber(f[5]) then return {'skip', 'window_over'} end
local score = string.format('%.0f', tonumber(f[5]) + tonumber(ARGV[3]))
${fallbackLua({ did: 'ARGV[2]', reason: "'unreported'", number: 'f[2]', id: 'f[3]', now: 'ARGV[1]', score: 'score', channel: 'ARGV[4]' })}
return {'fallback', redis.call('HGETALL', KEYS[1])}
`,
};

/**
 * A report of the caller ID (or code) that rang. The comparison is made by the caller in constant
 * time against `flashCli` as read; the script checks that value is still the session's, so the
 * verdict always concerns the call that rang. A wrong report uses a try; the last one fails the
 * session.
 *
 * KEYS: 1 session hash
 * ARGV: 1 now ms, 2 retention s, 3 the flashCli compared with, 4 '1' when it matched
 * Returns {kind, HGETALL-or-detail}: 'verified', 'mismatch', 'failed' (tries used up), 'missing',
 * 'not_flash', 'expired' (detail: expiresAt), 'ended' (detail: the status), 'not_rung' (detail: flashState).
 */
export const flashReportScript: LuaScript = {
  name: 'rpFlashReport',
  numberOfKeys: 1,
  lua: `
local f = redis.call('HMGET', KEYS[1], 'status', 'method', 'flashCli', 'expiresAt', 'flashReportsMax', 'flashState')
if not f[1] then return {'missing', ''} end
if f[2] ~= 'flash_call' then return {'not_flash', ''} end
if f[1] == 'expired' or (f[1] == 'pending' and tonumber(ARGV[1]) >= tonumber(f[4])) then return {'expired', f[4]} end
if f[1] ~= 'pending' then return {'ended', f[1]} end
if not f[3] or f[3] == '' or f[3] ~= ARGV[3] then return {'not_rung', f[6] or ''} end
if ARGV[4] == '1' then
  redis.call('HSET', KEYS[1], 'status', 'verified', 'verifiedAt', ARGV[1], 'updatedAt', ARGV[1], 'verifiedBy', 'report')
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  return {'verified', redis.call('HGETALL', KEYS[1])}
end
local tries = redis.call('HINCRBY', KEYS[1], 'flashReportTries', 1)
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[1])
if tries >= tonumber(f[5]) then
  redis.call('HSET', KEYS[1], 'status', 'failed', 'failedAt', ARGV[1], 'failureReason', 'report_tries')
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  return {'failed', redis.call('HGETALL', KEYS[1])}
end
return {'mismatch', redis.call('HGETALL', KEYS[1])}
`,
};
