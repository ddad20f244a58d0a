import type { LuaScript } from './lua-script.js';

/**
 * Decides what one call did, and records the decision under the Call-ID, in one atomic step: so
 * a session is verified at most once whatever duplicate jobs, retries or concurrent workers do, and
 * a retry after a crash finds the decision instead of making a second one.
 *
 * Matching rule: the (DID, CLI) match key names the session; it verifies only if it is pending,
 * was created no later than receivedAt + skew (the API and edge clocks may differ by that much; a
 * call that arrived before the session existed, e.g. from a queue backlog, must not verify it), and
 * receivedAt <= expiresAt (the INVITE time counts, not the processing time).
 *
 * KEYS: 1 call outcome record, 2 match key
 * ARGV: 1 session key prefix, 2 Call-ID, 3 receivedAt ms, 4 skew ms, 5 call record TTL s,
 *       6 retention s, 7 preset outcome ('' or 'withheld'/'invalid': no lookup), 8 now ms
 * Returns {fresh 1/0, outcome, sessionId, detail, notified, HGETALL of the session or {}}.
 * fresh=0 means an earlier delivery of this Call-ID decided; outcome is that earlier decision.
 */
export const processCallScript: LuaScript = {
  name: 'rpProcessCall',
  numberOfKeys: 2,
  lua: `
local function session(sid)
  if sid == nil or sid == '' then return {} end
  return redis.call('HGETALL', ARGV[1] .. sid)
end
local function notified(sid)
  if sid == nil or sid == '' then return '' end
  return redis.call('HGET', ARGV[1] .. sid, 'notified') or ''
end

local prior = redis.call('HMGET', KEYS[1], 'outcome', 'sessionId', 'detail')
if prior[1] then
  return {0, prior[1], prior[2] or '', prior[3] or '', notified(prior[2]), session(prior[2])}
end

local outcome, sid, detail, fresh = ARGV[7], '', '', 1
if outcome == '' then
  sid = redis.call('GET', KEYS[2]) or ''
  if sid == '' then
    outcome = 'unsolicited'; detail = 'no_session'
  else
    local skey = ARGV[1] .. sid
    local f = redis.call('HMGET', skey, 'status', 'createdAt', 'expiresAt', 'callId')
    local status = f[1]
    local receivedAt = tonumber(ARGV[3])
    if not status then
      outcome = 'unsolicited'; detail = 'session_gone'
    elseif tonumber(f[2]) > receivedAt + tonumber(ARGV[4]) then
      outcome = 'unsolicited'; detail = 'call_before_session'
    elseif status == 'pending' then
      if receivedAt > tonumber(f[3]) then
        outcome = 'late'; detail = 'after_expiry'
      else
        redis.call('HSET', skey, 'status', 'verified', 'verifiedAt', ARGV[8], 'callId', ARGV[2],
          'callReceivedAt', ARGV[3], 'updatedAt', ARGV[8])
        redis.call('EXPIRE', skey, ARGV[6])
        outcome = 'verified'
      end
    elseif status == 'verified' then
      if f[4] == ARGV[2] then
        -- verified by this very call, but its record is gone: report the earlier decision
        outcome = 'verified'; fresh = 0
      else
        outcome = 'duplicate'; detail = 'already_verified'
      end
    elseif status == 'expired' then
      outcome = 'late'; detail = 'expired'
    else
      outcome = 'unsolicited'; detail = status
    end
  end
end
redis.call('HSET', KEYS[1], 'outcome', outcome, 'sessionId', sid, 'detail', detail, 'decidedAt', ARGV[8])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return {fresh, outcome, sid, detail, notified(sid), session(sid)}
`,
};
