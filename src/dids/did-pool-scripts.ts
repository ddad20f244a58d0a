import type { LuaScript } from '../verify/scripts/lua-script.js';

/**
 * The DID pool: a hash (DID → record JSON) and the set of DIDs in service, changed together by
 * these scripts only. KEYS for all: 1 the hash, 2 the in-service set (same {hash tag}).
 * A record: {did, status: 'active'|'quarantined', source: 'config'|'api', addedAt, releasedAt?,
 * quarantineUntil?, reason?, restoredAt?} (times in epoch ms).
 */

/**
 * Seeds the pool from the configuration's `dids` (start-up and SIGHUP): a configured DID the pool
 * does not know joins in service; a DID that came from the configuration, is in service and is no
 * longer configured leaves. A quarantined DID stays quarantined, configured or not, and a DID added
 * through the API stays.
 * ARGV: 1 now, 2.. the configured DIDs. Returns the number of DIDs in service.
 */
export const seedDidPoolScript: LuaScript = {
  name: 'rpSeedDidPool',
  numberOfKeys: 2,
  lua: `
local want = {}
for i = 2, #ARGV do want[ARGV[i]] = true end
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local ok, rec = pcall(cjson.decode, all[i + 1])
  if ok and type(rec) == 'table' and rec.source == 'config' and rec.status == 'active' and not want[all[i]] then
    redis.call('HDEL', KEYS[1], all[i])
    redis.call('SREM', KEYS[2], all[i])
  end
end
for i = 2, #ARGV do
  if redis.call('HSETNX', KEYS[1], ARGV[i], cjson.encode({did = ARGV[i], status = 'active', source = 'config', addedAt = tonumber(ARGV[1])})) == 1 then
    redis.call('SADD', KEYS[2], ARGV[i])
  end
end
return redis.call('SCARD', KEYS[2])
`,
};

/**
 * Changes one DID's record: ARGV 1 the DID, 2 the expected status ('' = absent, '*' = any), 3 the
 * new record JSON ('' = none), 4 '1' to put it in service, '0' to take it out.
 * Returns {'ok', record after} or {'status', record now or ''} when the status was not the expected
 * one (another process changed it in between): the caller reads again and decides.
 */
export const changeDidScript: LuaScript = {
  name: 'rpChangeDid',
  numberOfKeys: 2,
  lua: `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local status = ''
if cur then
  local ok, rec = pcall(cjson.decode, cur)
  if ok and type(rec) == 'table' then status = rec.status or '' end
end
if ARGV[2] ~= '*' and status ~= ARGV[2] then return {'status', cur or ''} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if ARGV[4] == '1' then redis.call('SADD', KEYS[2], ARGV[1]) else redis.call('SREM', KEYS[2], ARGV[1]) end
return {'ok', ARGV[3]}
`,
};
