import type { LuaScript } from '../verify/scripts/lua-script.js';
import { CALL_LIMITS, type CallLimitName } from './call-limit-defaults.js';

/** What each limit counts by; perCliDids counts the distinct DIDs a CLI called. */
const SUBJECT: Record<CallLimitName, 'cli' | 'did' | 'trunk'> = { perCliDids: 'cli', perCli: 'cli', perDid: 'did', perTrunk: 'trunk' };
const DISTINCT_DIDS = CALL_LIMITS.indexOf('perCliDids') + 1;

/** ARGV slots per call. */
export const CALL_LIMIT_ARGS = 4;
/** ARGV slots before the calls: key prefix, then count and window ms per limit, then the number of calls. */
export const CALL_LIMIT_HEAD = 2 + 2 * CALL_LIMITS.length;

/**
 * Counts one batch's candidate calls against the call limits in one round trip, and names for each
 * call the first limit (in CALL_LIMITS order) it is over. A candidate is a call whose CLI has a
 * pending session (the pending-numbers set, number → expiresAt): only those could verify, so a flood
 * from numbers nobody is verifying costs one ZSCORE per call and no counter.
 *
 * A window is a counter (a set of DIDs for perCliDids) that expires windowSeconds after the first
 * call it counted. Every limit counts every candidate call, also one already over another limit, so
 * a caller that keeps calling stays limited. The counters share the key prefix's {hash tag}.
 *
 * KEYS: 1 the pending-numbers sorted set
 * ARGV: 1 counter key prefix, then per limit (CALL_LIMITS order: perCliDids, perCli, perDid,
 *       perTrunk) its count (0 = off) and window ms, then the number of calls;
 *       then per call: CLI, DID, trunk, receivedAt ms ('' CLI or DID: not a candidate)
 * Returns per call the 1-based index of the limit it is over, 0 = none (or not a candidate).
 */
export const callLimitsScript: LuaScript = {
  name: 'rpCallLimits',
  numberOfKeys: 1,
  lua: `
local prefix = ARGV[1]
local n = tonumber(ARGV[${CALL_LIMIT_HEAD}])
local function limit(i) return tonumber(ARGV[2 * i]), ARGV[2 * i + 1] end
local function counted(key, window)
  local v = redis.call('INCR', key)
  if v == 1 then redis.call('PEXPIRE', key, window) end
  return v
end
local out = {}
for i = 0, n - 1 do
  local b = ${CALL_LIMIT_HEAD} + 1 + i * ${CALL_LIMIT_ARGS}
  local cli, did, trunk, at = ARGV[b], ARGV[b + 1], ARGV[b + 2], tonumber(ARGV[b + 3])
  local over = 0
  local exp = cli ~= '' and did ~= '' and redis.call('ZSCORE', KEYS[1], cli)
  if exp and tonumber(exp) >= at then
    local subjects = {${CALL_LIMITS.map((n) => SUBJECT[n]).join(', ')}}
    local names = {${CALL_LIMITS.map((n) => `'${n}'`).join(', ')}}
    for l = 1, ${CALL_LIMITS.length} do
      local count, window = limit(l)
      if count > 0 then
        local key = prefix .. names[l] .. ':' .. window .. ':' .. subjects[l]
        local v
        if l == ${DISTINCT_DIDS} then
          redis.call('SADD', key, did)
          if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, window) end
          v = redis.call('SCARD', key)
        else
          v = counted(key, window)
        end
        if v > count and over == 0 then over = l end
      end
    end
  end
  out[i + 1] = over
end
return out
`,
};
