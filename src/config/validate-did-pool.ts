import type { ConfigChecker } from './config-checker.js';
import { readBoolean } from './read-boolean.js';
import type { DidPoolConfig } from './config-types.js';

/** `didPool`: quarantine of released DIDs. The quiet window is read from the per-minute counts (at most a day). */
export function readDidPool(c: ConfigChecker, value: unknown, d: DidPoolConfig): DidPoolConfig {
  const path = ['didPool'];
  const o = c.mapping(value, path, ['quarantineDays', 'restoreQuietMinutes', 'restoreMaxUnwantedCalls', 'flag']);
  const fp = [...path, 'flag'];
  const f = c.mapping(o.flag, fp, ['enabled', 'recentMinutes', 'baselineMinutes', 'factor', 'minCalls', 'seconds']);
  const df = d.flag;
  return {
    flag: {
      enabled: c.pick(f, fp, 'enabled', df.enabled, (v, p) => readBoolean(c, v, p)),
      recentMinutes: c.pick(f, fp, 'recentMinutes', df.recentMinutes, (v, p) => c.int(v, p, 1, 120)),
      baselineMinutes: c.pick(f, fp, 'baselineMinutes', df.baselineMinutes, (v, p) => c.int(v, p, 10, 1440)),
      factor: c.pick(f, fp, 'factor', df.factor, (v, p) => c.int(v, p, 2, 1000)),
      minCalls: c.pick(f, fp, 'minCalls', df.minCalls, (v, p) => c.int(v, p, 1, 1_000_000_000)),
      seconds: c.pick(f, fp, 'seconds', df.seconds, (v, p) => c.int(v, p, 60, 30 * 86_400)),
    },
    quarantineDays: c.pick(o, path, 'quarantineDays', d.quarantineDays, (v, p) => c.int(v, p, 0, 3650)),
    restoreQuietMinutes: c.pick(o, path, 'restoreQuietMinutes', d.restoreQuietMinutes, (v, p) => c.int(v, p, 1, 1440)),
    restoreMaxUnwantedCalls: c.pick(o, path, 'restoreMaxUnwantedCalls', d.restoreMaxUnwantedCalls, (v, p) => c.int(v, p, 0, 1_000_000_000)),
  };
}
