import type { ConfigChecker } from './config-checker.js';
import type { DidPoolConfig } from './config-types.js';

/** `didPool`: quarantine of released DIDs. The quiet window is read from the per-minute counts (at most a day). */
export function readDidPool(c: ConfigChecker, value: unknown, d: DidPoolConfig): DidPoolConfig {
  const path = ['didPool'];
  const o = c.mapping(value, path, ['quarantineDays', 'restoreQuietMinutes', 'restoreMaxUnwantedCalls']);
  return {
    quarantineDays: c.pick(o, path, 'quarantineDays', d.quarantineDays, (v, p) => c.int(v, p, 0, 3650)),
    restoreQuietMinutes: c.pick(o, path, 'restoreQuietMinutes', d.restoreQuietMinutes, (v, p) => c.int(v, p, 1, 1440)),
    restoreMaxUnwantedCalls: c.pick(o, path, 'restoreMaxUnwantedCalls', d.restoreMaxUnwantedCalls, (v, p) => c.int(v, p, 0, 1_000_000_000)),
  };
}
