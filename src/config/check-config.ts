import { isRingproofError } from '../errors/ringproof-error.js';
import { readDenyPrefixFile } from '../numbers/deny-prefix-list.js';
import { denyPrefixesPath } from '../numbers/number-policy-defaults.js';
import type { RingproofConfig } from './config-types.js';
import type { EnvLike } from './env-overrides.js';
import { loadConfig } from './load-config.js';
import { formatHostPort } from './parse-listen.js';

export type ConfigCheckResult = { ok: true; summary: string } | { ok: false; error: string; code?: string };

/** One line saying what the daemon would run with; no secrets. */
export function summarizeConfig(c: RingproofConfig): string {
  const sip = c.sip.engine === 'native'
    ? `sip native on ${c.sip.listen.map((l) => l.text).join(', ')}`
    : `sip drachtio at ${c.sip.drachtio.host}:${c.sip.drachtio.port}`;
  const redis = c.redis.url === undefined ? 'redis embedded' : `redis ${new URL(c.redis.url).protocol.replace(/:$/, '')}`;
  return [
    `role ${c.role}`,
    sip,
    `http ${formatHostPort(c.http.listen)}`,
    `${c.trunks.length} trunk(s)`,
    `${c.dids.length} DID(s)`,
    `${c.api.keys.length} API key(s)`,
    redis,
  ].join('; ');
}

/**
 * For `ringproof config check FILE`: loads the file with the same environment overrides `serve` would
 * apply, and reports the result instead of throwing.
 */
export function checkConfigFile(path: string, env: EnvLike): ConfigCheckResult {
  try {
    const config = loadConfig({ file: path, env });
    // serve would refuse to start on a broken deny-prefix file, so the check reads it too.
    readDenyPrefixFile(denyPrefixesPath(config.numbers));
    return { ok: true, summary: `${path}: OK (${summarizeConfig(config)})` };
  } catch (err) {
    if (isRingproofError(err)) return { ok: false, error: err.message, code: err.code };
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}
