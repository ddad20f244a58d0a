import type { LuaScript } from './lua-script.js';

/** ARGV slots per call after the head and the trust table (see the script's header). */
export const CALL_ARGS = 8;
/** ARGV slots before the trust table: the last one is its size. */
export const HEAD_ARGS = 17;
/** ARGV slots per entry of the trust table: refusal, refusals by session policy, verdict JSON. */
export const TRUST_ARGS = 3;
/** KEYS before the dedupe buckets. */
export const FIXED_KEYS = 4;
/** One unsolicited call in this many (by Call-ID hash) is counted in the top talkers, with this weight. */
export const TALKER_SAMPLE = 8;
/** Dedupe buckets searched: this one and three earlier ones, each a third of the window long. */
export const DEDUPE_BUCKETS = 4;

/**
 * The verified emit claim's token for the call at `index` of a script run: it names the attempt
 * (the batch job, one run of it, and the call's place in it), not the call. Another attempt — the
 * same job re-run after its lock lapsed, or another job carrying the same Call-ID (a second edge, a
 * batch the edge re-sent) — finds a claim that is not its own and waits for its holder to mark the
 * webhook sent, taking the claim over only from a dead holder (see emit-claim-liveness.ts).
 * `prefix` is claimTokenPrefix(delivery, attempt, offset of the run in the batch).
 */
export function claimToken(prefix: string, index: number): string {
  return `${prefix}${index}`;
}

/** ARGV 16 of a run that starts at `offset` of the batch delivered as `delivery`, in attempt `attempt`. */
export function claimTokenPrefix(delivery: string, attempt: string, offset: number): string {
  return `job:${delivery}:${attempt}:${offset}:`;
}

/**
 * Decides every call of one batch in one atomic step and one round trip, so the Redis work per call
 * is a small constant whatever the rate: a session is verified at most once whatever duplicate jobs,
 * retries or concurrent workers do, and a retry after a crash finds the decision instead of making a
 * second one.
 *
 * Dedupe: a Call-ID's decision is kept as one field (16 hex digits of its SHA-1) of the hash of the
 * time bucket it was decided in; the buckets of the last dedupe window are searched. Nothing of an
 * unsolicited call outlives that window: after it, a resend is decided again, which for a call that
 * verified is still "duplicate" (the session names its Call-ID) and for any other call only counts
 * it twice in the aggregates.
 *
 * Accounting: a call that concerns a session (matched its (DID, CLI), whatever the outcome) is
 * evidence and goes to the evidence stream (time retention, MINID); any other call is noise: counted
 * in the minute's aggregate hash (trunk|DID|outcome), its CLI in the hour's capped top-talkers set
 * (sampled, TALKER_SAMPLE), and, one in `sampleEvery`, in the capped noise stream.
 *
 * Matching rule: the (DID, CLI) match key names the session; it verifies only if it is pending, was
 * created no later than receivedAt + skew (a call that arrived before the session existed, e.g. from a
 * queue backlog, must not verify it), and receivedAt <= expiresAt (the INVITE time counts).
 *
 * Caller trust (src/trust/): the worker applies the trust policy before the script runs. The batch
 * carries a small table of the verdicts its calls have (refusal, verdict JSON) and each call the index
 * of its own. A session created with its own callerTrustPolicy stores that policy's number
 * (trustPolicy, see session-trust-policy.ts); each verdict carries its refusal under every policy, and
 * the script takes the session's own, so the policy in force is read in the same atomic step as the
 * match. A refused call that would otherwise verify is 'rejected' (detail = the refusal, e.g.
 * caller_id_failed); the session stays pending for a genuine call and remembers the refusal as
 * lastRejection / lastRejectedAt. A verifying call stores its verdict as the session's callerTrust.
 *
 * When a verified webhook is still owed, the step takes the emit claim (see claim-emit.ts).
 *
 * KEYS: 1 evidence stream, 2 noise stream, 3 this minute's aggregate hash, 4 this hour's top talkers,
 *       5 this dedupe bucket, 6-8 the three before it
 * ARGV: 1 session key prefix, 2 skew ms, 3 session retention s, 4 now ms, 5 evidence MINID (ms),
 *       6 noise MAXLEN (~), 7 emit claim key prefix, 8 claim lease ms, 9 dedupe bucket TTL s,
 *       10 match key prefix, 11 aggregate TTL s, 12 top talkers kept, 13 top talkers TTL s,
 *       14 noise sample 1 in N, 15 number of calls, 16 emit claim token prefix (the delivery, see
       claimToken), 17 size T of the trust table;
 *       then T triples: caller-trust refusal under the deployment's policy ('' = may verify), the
 *       refusals under each session policy joined by '|' in policy-number order ('' = none given: the
 *       first applies to every session), caller-trust verdict as JSON;
 *       then per call: Call-ID, DID, CLI, receivedAt ms, preset outcome ('' or 'withheld'/'invalid'/'blocked'),
 *       trunk, the CallEvent as JSON (an object; the outcome fields are appended for the audit),
 *       index (1..T) of its trust verdict
 * Returns one {fresh 1/0, outcome, sessionId, detail, notified, HGETALL or {}, claimed 1/0} per call.
 * fresh=0: an earlier delivery decided; outcome is that decision. The session (HGETALL) is returned
 * only with claimed=1, when the caller holds the verified emit claim (token ARGV 16 .. its 0-based
 * index in this run).
 */
export const processCallsScript: LuaScript = {
  name: 'rpProcessCallBatch',
  numberOfKeys: FIXED_KEYS + DEDUPE_BUCKETS,
  lua: `
local sprefix, skew, retention, now = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local n = tonumber(ARGV[15])
local first = ${HEAD_ARGS} + ${TRUST_ARGS} * tonumber(ARGV[${HEAD_ARGS}]) + 1
local sampleEvery = tonumber(ARGV[14])
local nkeys = #KEYS

-- the code-th '|'-separated item of list; nil when list is '' or too short
local function nth(list, code)
  if list == '' then return nil end
  local start = 1
  for _ = 2, code do
    local sep = string.find(list, '|', start, true)
    if not sep then return nil end
    start = sep + 1
  end
  local stop = string.find(list, '|', start, true)
  if stop then return string.sub(list, start, stop - 1) end
  return string.sub(list, start)
end

local function decide(callId, did, cli, receivedAt, preset, refusal, byPolicy, verdict)
  -- a blocklisted caller never verifies; a call that concerns a session is still evidence
  if preset == 'blocked' then return 'blocked', redis.call('GET', ARGV[10] .. did .. ':' .. cli) or '', 'blocklist', 1 end
  if preset ~= '' then return preset, '', '', 1 end
  local sid = redis.call('GET', ARGV[10] .. did .. ':' .. cli)
  if not sid then return 'unsolicited', '', 'no_session', 1 end
  local skey = sprefix .. sid
  local f = redis.call('HMGET', skey, 'status', 'createdAt', 'expiresAt', 'callId', 'trustPolicy')
  local status = f[1]
  local at = tonumber(receivedAt)
  if not status then return 'unsolicited', sid, 'session_gone', 1 end
  if tonumber(f[2]) > at + skew then return 'unsolicited', sid, 'call_before_session', 1 end
  if status == 'pending' then
    if at > tonumber(f[3]) then return 'late', sid, 'after_expiry', 1 end
    -- the session's own policy; a number this version does not know falls back to the deployment's
    local code = tonumber(f[5] or '')
    if code then refusal = nth(byPolicy, code) or refusal end
    if refusal ~= '' then
      redis.call('HSET', skey, 'lastRejection', refusal, 'lastRejectedAt', now, 'updatedAt', now)
      return 'rejected', sid, refusal, 1
    end
    redis.call('HSET', skey, 'status', 'verified', 'verifiedAt', now, 'callId', callId,
      'callReceivedAt', receivedAt, 'updatedAt', now)
    if verdict ~= '' then redis.call('HSET', skey, 'callerTrust', verdict) end
    redis.call('EXPIRE', skey, retention)
    return 'verified', sid, '', 1
  end
  if status == 'verified' then
    -- verified by this very call, its dedupe record gone: report the earlier decision
    if f[4] == callId then return 'verified', sid, '', 0 end
    return 'duplicate', sid, 'already_verified', 1
  end
  if status == 'expired' then return 'late', sid, 'expired', 1 end
  return 'unsolicited', sid, status, 1
end

-- {...event, outcome, firstOutcome?, detail?, sessionId?}
local function auditData(ev, fresh, outcome, sid, detail)
  local data = string.sub(ev, 1, -2)
  if data ~= '{' then data = data .. ',' end
  if fresh == 1 then
    data = data .. '"outcome":' .. cjson.encode(outcome)
  else
    data = data .. '"outcome":"duplicate","firstOutcome":' .. cjson.encode(outcome)
  end
  if detail ~= '' then data = data .. ',"detail":' .. cjson.encode(detail) end
  if sid ~= '' then data = data .. ',"sessionId":' .. cjson.encode(sid) end
  return data .. '}'
end

-- One HMGET per dedupe bucket for the whole batch, one HSET of the new decisions and one HINCRBY per
-- distinct count at the end: per call, the script pays table work, not Redis commands.
local fields = {}
for i = 0, n - 1 do fields[i + 1] = string.sub(redis.sha1hex(ARGV[first + i * ${CALL_ARGS}]), 1, 16) end
local prior = {}
for k = ${FIXED_KEYS + 1}, nkeys do
  local got = redis.call('HMGET', KEYS[k], unpack(fields))
  for i = 1, n do
    if got[i] and not prior[i] then prior[i] = got[i] end
  end
end

local results = {}
local seen, decided, counts = {}, {}, {}
local talkersAny = false
for i = 0, n - 1 do
  local b = first + i * ${CALL_ARGS}
  local callId, did, cli, receivedAt, preset, trunk, ev =
    ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], ARGV[b + 5], ARGV[b + 6]
  local t = ${HEAD_ARGS} + ${TRUST_ARGS} * (tonumber(ARGV[b + 7]) - 1) + 1
  local field = fields[i + 1]
  local rec = prior[i + 1] or seen[field]
  local fresh, outcome, sid, detail
  if rec then
    fresh = 0
    if rec == 'u' then
      outcome, sid, detail = 'unsolicited', '', 'no_session'
    else
      local p1 = string.find(rec, '|', 1, true)
      local p2 = string.find(rec, '|', p1 + 1, true)
      outcome, sid, detail = string.sub(rec, 1, p1 - 1), string.sub(rec, p1 + 1, p2 - 1), string.sub(rec, p2 + 1)
    end
  else
    outcome, sid, detail, fresh = decide(callId, did, cli, receivedAt, preset, ARGV[t], ARGV[t + 1], ARGV[t + 2])
    rec = 'u'
    if sid ~= '' or outcome ~= 'unsolicited' or detail ~= 'no_session' then rec = outcome .. '|' .. sid .. '|' .. detail end
    seen[field] = rec
    decided[#decided + 1] = field
    decided[#decided + 1] = rec
  end

  if sid ~= '' then
    redis.call('XADD', KEYS[1], 'MINID', '~', ARGV[5], '*', 'type', 'call', 'at', now,
      'data', auditData(ev, fresh, outcome, sid, detail))
    if fresh == 1 and outcome == 'verified' then
      redis.call('XADD', KEYS[1], 'MINID', '~', ARGV[5], '*', 'type', 'session.verified', 'at', now,
        'data', '{"id":' .. cjson.encode(sid) .. ',"callId":' .. cjson.encode(callId) .. ',"callReceivedAt":' .. receivedAt .. '}')
    end
  else
    local label = outcome
    if fresh == 0 then label = 'duplicate' end
    local cf = trunk .. '|' .. did .. '|' .. label
    counts[cf] = (counts[cf] or 0) + 1
    -- sampled one call in ${TALKER_SAMPLE} (by Call-ID) and counted ${TALKER_SAMPLE}: a sorted-set insert per
    -- call was the script's dearest step under a flood of random CLIs; repeat callers still surface
    if fresh == 1 and cli ~= '' and tonumber(string.sub(field, 7, 10), 16) % ${TALKER_SAMPLE} == 0 then
      redis.call('ZINCRBY', KEYS[4], ${TALKER_SAMPLE}, cli)
      talkersAny = true
    end
    if sampleEvery <= 1 or tonumber(string.sub(field, 1, 6), 16) % sampleEvery == 0 then
      redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], '*', 'type', 'call', 'at', now,
        'data', auditData(ev, fresh, outcome, sid, detail))
    end
  end

  local notified, h, claimed = '', {}, 0
  if outcome == 'verified' and sid ~= '' then
    local skey = sprefix .. sid
    local s = redis.call('HMGET', skey, 'notified', 'status')
    notified = s[1] or ''
    if notified ~= 'verified' and s[2] == 'verified' then
      local ckey = ARGV[7] .. sid .. ':verified'
      local token = ARGV[16] .. i
      if redis.call('SET', ckey, token, 'PX', ARGV[8], 'NX') then
        claimed = 1
      elseif redis.call('GET', ckey) == token then
        redis.call('PEXPIRE', ckey, ARGV[8])
        claimed = 1
      end
      if claimed == 1 then h = redis.call('HGETALL', skey) end
    end
  end
  results[i + 1] = {fresh, outcome, sid, detail, notified, h, claimed}
end

if #decided > 0 then
  redis.call('HSET', KEYS[${FIXED_KEYS + 1}], unpack(decided))
  redis.call('EXPIRE', KEYS[${FIXED_KEYS + 1}], ARGV[9])
end
local countedAny = false
for cf, c in pairs(counts) do
  redis.call('HINCRBY', KEYS[3], cf, c)
  countedAny = true
end
if countedAny then redis.call('EXPIRE', KEYS[3], ARGV[11]) end
if talkersAny then
  local keep = tonumber(ARGV[12])
  local card = redis.call('ZCARD', KEYS[4])
  -- trimmed in steps so the cost is amortized: one-off CLIs fall out, repeat callers stay
  if card > keep * 2 then redis.call('ZREMRANGEBYRANK', KEYS[4], 0, card - keep - 1) end
  redis.call('EXPIRE', KEYS[4], ARGV[13])
end
return results
`,
};
