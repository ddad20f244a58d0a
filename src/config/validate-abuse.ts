import { readBoolean } from './read-boolean.js';
import type { ConfigChecker } from './config-checker.js';
import { checkCallbackUrl } from '../webhooks/callback-url-rules.js';
import { webhookEgressPolicy } from '../webhooks/webhook-egress.js';
import type { AbuseConfig, BlocklistConfig, EnumerationConfig, FloodGuardConfig, HammeringConfig, WebhookConfig } from './config-types.js';

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

function readHammering(c: ConfigChecker, value: unknown, d: HammeringConfig): HammeringConfig {
  const path = ['abuse', 'hammering'];
  const o = c.mapping(value, path, ['enabled', 'maxCalls', 'windowSeconds', 'blockSeconds', 'maxTracked']);
  return {
    enabled: c.pick(o, path, 'enabled', d.enabled, (v, p) => readBoolean(c, v, p)),
    maxCalls: c.pick(o, path, 'maxCalls', d.maxCalls, (v, p) => c.int(v, p, 2, 100_000)),
    windowSeconds: c.pick(o, path, 'windowSeconds', d.windowSeconds, (v, p) => c.int(v, p, 1, 86_400)),
    blockSeconds: c.pick(o, path, 'blockSeconds', d.blockSeconds, (v, p) => c.int(v, p, 1, 30 * 86_400)),
    maxTracked: c.pick(o, path, 'maxTracked', d.maxTracked, (v, p) => c.int(v, p, 100, 10_000_000)),
  };
}

function readEnumeration(c: ConfigChecker, value: unknown, d: EnumerationConfig): EnumerationConfig {
  const path = ['abuse', 'enumeration'];
  const o = c.mapping(value, path, ['enabled', 'suffixDigits', 'maxDistinct', 'windowSeconds', 'blockSeconds', 'maxTracked']);
  return {
    enabled: c.pick(o, path, 'enabled', d.enabled, (v, p) => readBoolean(c, v, p)),
    suffixDigits: c.pick(o, path, 'suffixDigits', d.suffixDigits, (v, p) => c.int(v, p, 1, 8)),
    maxDistinct: c.pick(o, path, 'maxDistinct', d.maxDistinct, (v, p) => c.int(v, p, 2, 100_000)),
    windowSeconds: c.pick(o, path, 'windowSeconds', d.windowSeconds, (v, p) => c.int(v, p, 1, 86_400)),
    blockSeconds: c.pick(o, path, 'blockSeconds', d.blockSeconds, (v, p) => c.int(v, p, 1, 30 * 86_400)),
    maxTracked: c.pick(o, path, 'maxTracked', d.maxTracked, (v, p) => c.int(v, p, 100, 10_000_000)),
  };
}

/** `abuse`: the edge's flood guard, blocklist copy, hammering auto-block, and where abuse webhooks go. */
export function readAbuse(c: ConfigChecker, value: unknown, d: AbuseConfig, webhooks: WebhookConfig): AbuseConfig {
  const path = ['abuse'];
  const o = c.mapping(value, path, ['floodGuard', 'blocklist', 'hammering', 'enumeration', 'webhookUrl']);
  return {
    floodGuard: readFloodGuard(c, o.floodGuard, d.floodGuard),
    blocklist: readBlocklist(c, o.blocklist, d.blocklist),
    hammering: readHammering(c, o.hammering, d.hammering),
    enumeration: readEnumeration(c, o.enumeration, d.enumeration),
    webhookUrl: c.pick<string | undefined>(o, path, 'webhookUrl', d.webhookUrl, (v, p) => {
      const s = c.string(v, p).trim();
      // The rule of webhooks.defaultUrl, with the same allowPrivateTargets.
      const r = checkCallbackUrl(s, webhookEgressPolicy(webhooks));
      if (!r.ok) c.fail(p, `${r.problem}, got ${JSON.stringify(s)}`);
      return s;
    }),
  };
}
