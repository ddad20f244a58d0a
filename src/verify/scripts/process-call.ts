import type { LuaScript } from './lua-script.js';

/**
 * Decides what one call did, and records the decision under the Call-ID, in one atomic step: so
 * a session is verified at most once whatever duplicate jobs, retries or concurrent workers do, and
 * a retry after a crash finds the decision instead of making a second one.
 *
 * The same step appends the call's audit entries (and 'session.verified' for a fresh verification)
 * and, when the verified webhook is still owed, takes the emit claim (see claim-emit.ts): one round
 * trip and one AOF fsync instead of four, and the audit trail can never miss a decision.
 *
 * Matching rule: the (DID, CLI) match key names the session; it verifies only if it is pending,
 * was created no later than receivedAt + skew (the API and edge clocks may differ by that much; a
 * call that arrived before the session existed, e.g. from a queue backlog, must not verify it), and
 * receivedAt <= expiresAt (the INVITE time counts, not the processing time).
 *
 * Caller trust (src/trust/): the worker applies the trust policy before the script runs and passes
 * its refusal in ARGV 13. A refused call that would otherwise verify is 'rejected' (detail = the
 * refusal, e.g. caller_id_failed); the session stays pending for a genuine call and remembers the
 * refusal as lastRejection / lastRejectedAt. A verifying call stores ARGV 14 as the session's callerTrust.
 *
 * KEYS: 1 call outcome record, 2 match key, 3 audit stream
 * ARGV: 1 session key prefix, 2 Call-ID, 3 receivedAt ms, 4 skew ms, 5 call record TTL s,
 *       6 retention s, 7 preset outcome ('' or 'withheld'/'invalid': no lookup), 8 now ms,
 *       9 audit MAXLEN (~), 10 the CallEvent as JSON (an object; the outcome fields are appended),
 *       11 emit claim key prefix (claim key = prefix .. sessionId .. ':verified'), 12 claim lease ms,
 *       13 caller-trust refusal ('' = the call may verify), 14 caller-trust verdict as JSON
 * Returns {fresh 1/0, outcome, sessionId, detail, notified, HGETALL of the session or {}, claimed 1/0}.
 * fresh=0 means an earlier delivery of this Call-ID decided; outcome is that earlier decision.
 * claimed=1 means the caller holds the verified emit claim (token 'call:' .. the session's callId).
 */
export const processCallScript: LuaScript = {
  name: 'rpProcessCallAudited',
  numberOfKeys: 3,
  lua: `
local function finish(fresh, outcome, sid, detail)
  local skey = ARGV[1] .. sid
  local notified, h, claimed = '', {}, 0
  if sid ~= '' then
    notified = redis.call('HGET', skey, 'notified') or ''
    h = redis.call('HGETALL', skey)
  end
  -- audit: {...event, outcome, firstOutcome?, detail?, sessionId?} as call-worker used to write it
  local ev = ARGV[10]
  local data = string.sub(ev, 1, -2)
  if data ~= '{' then data = data .. ',' end
  if fresh == 1 then
    data = data .. '"outcome":' .. cjson.encode(outcome)
  else
    data = data .. '"outcome":"duplicate","firstOutcome":' .. cjson.encode(outcome)
  end
  if detail ~= '' then data = data .. ',"detail":' .. cjson.encode(detail) end
  if sid ~= '' then data = data .. ',"sessionId":' .. cjson.encode(sid) end
  data = data .. '}'
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[9], '*', 'type', 'call', 'at', ARGV[8], 'data', data)
  if fresh == 1 and outcome == 'verified' then
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[9], '*', 'type', 'session.verified', 'at', ARGV[8],
      'data', '{"id":' .. cjson.encode(sid) .. ',"callId":' .. cjson.encode(ARGV[2]) .. ',"callReceivedAt":' .. ARGV[3] .. '}')
  end
  -- the emit claim, as claim-emit.ts takes it, when the verified webhook is still owed
  if outcome == 'verified' and notified ~= 'verified' and sid ~= '' and redis.call('HGET', skey, 'status') == 'verified' then
    local ckey = ARGV[11] .. sid .. ':verified'
    local token = 'call:' .. (redis.call('HGET', skey, 'callId') or '')
    if redis.call('SET', ckey, token, 'PX', ARGV[12], 'NX') then
      claimed = 1
    elseif redis.call('GET', ckey) == token then
      redis.call('PEXPIRE', ckey, ARGV[12])
      claimed = 1
    end
  end
  return {fresh, outcome, sid, detail, notified, h, claimed}
end

local prior = redis.call('HMGET', KEYS[1], 'outcome', 'sessionId', 'detail')
if prior[1] then
  return finish(0, prior[1], prior[2] or '', prior[3] or '')
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
      elseif (ARGV[13] or '') ~= '' then
        redis.call('HSET', skey, 'lastRejection', ARGV[13], 'lastRejectedAt', ARGV[8], 'updatedAt', ARGV[8])
        outcome = 'rejected'; detail = ARGV[13]
      else
        redis.call('HSET', skey, 'status', 'verified', 'verifiedAt', ARGV[8], 'callId', ARGV[2],
          'callReceivedAt', ARGV[3], 'updatedAt', ARGV[8])
        if (ARGV[14] or '') ~= '' then redis.call('HSET', skey, 'callerTrust', ARGV[14]) end
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
return finish(fresh, outcome, sid, detail)
`,
};
