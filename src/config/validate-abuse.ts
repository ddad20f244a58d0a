import { readBoolean } from './read-boolean.js';
import type { ConfigChecker } from './config-checker.js';
import type { AbuseConfig, BlocklistConfig, FloodGuardConfig } from './config-types.js';

function readFloodGuard(c: ConfigChecker, value: unknown, d: FloodGuardConfig): FloodGuardConfig {
  const path = ['abuse', 'floodGuard'];
  const o = c.mapping(value, path, ['enabled', 'windowMs', 'maxRequests', 'banSeconds', 'trunkMaxRequests', 'maxSources']);
  return {
    enabled: c.pick(o, path, 'enabled', d.enabled, (v, p) => readBoolean(c, v, p)),
    windowMs: c.pick(o, path, 'windowMs', d.windowMs, (v, p) => c.int(v, p, 100, 600_000)),
    maxRequests: c.pick(o, path, 'maxRequests', d.maxRequests, (v, p) => c.int(v, p, 1, 1_000_000)),
    banSeconds: c.pick(o, path, 'banSeconds', d.banSeconds, (v, p) => c.int(v, p, 1, 86_400)),
    trunkMaxRequests: c.pick(o, path, 'trunkMaxRequests', d.trunkMaxRequests, (v, p) => c.int(v, p, 0, 10_000_000)),
    maxSources: c.pick(o, path, 'maxSources', d.maxSources, (v, p) => c.int(v, p, 100, 10_000_000)),
  };
}

function readBlocklist(c: ConfigChecker, value: unknown, d: BlocklistConfig): BlocklistConfig {
  const path = ['abuse', 'blocklist'];
  const o = c.mapping(value, path, ['reloadSeconds']);
  return { reloadSeconds: c.pick(o, path, 'reloadSeconds', d.reloadSeconds, (v, p) => c.int(v, p, 1, 3600)) };
}

/** `abuse`: the edge's flood guard and blocklist copy. */
export function readAbuse(c: ConfigChecker, value: unknown, d: AbuseConfig): AbuseConfig {
  const o = c.mapping(value, ['abuse'], ['floodGuard', 'blocklist']);
  return { floodGuard: readFloodGuard(c, o.floodGuard, d.floodGuard), blocklist: readBlocklist(c, o.blocklist, d.blocklist) };
}
