import { CALL_LIMITS } from '../limits/call-limit-defaults.js';
import { CREATE_LIMITS } from '../limits/create-limit-defaults.js';
import { readBoolean } from './read-boolean.js';
import type { ConfigChecker, ConfigPath } from './config-checker.js';
import type { CallLimitsConfig, CreateLimitsConfig, LimitWindow, LimitsConfig } from './config-types.js';

const MAX_WINDOW_SECONDS = 7 * 86_400;

/** One limit: `{count, windowSeconds}` (perPrefix also `digits`); a key left out keeps `fallback`'s. */
function readWindow<T extends LimitWindow>(c: ConfigChecker, value: unknown, path: ConfigPath, fallback: T): T {
  const digits = (fallback as Partial<{ digits: number }>).digits;
  const o = c.mapping(value, path, digits === undefined ? ['count', 'windowSeconds'] : ['count', 'windowSeconds', 'digits']);
  return {
    ...fallback,
    count: c.pick(o, path, 'count', fallback.count, (v, p) => c.int(v, p, 0, 1_000_000_000)),
    windowSeconds: c.pick(o, path, 'windowSeconds', fallback.windowSeconds, (v, p) => c.int(v, p, 1, MAX_WINDOW_SECONDS)),
    ...(digits === undefined ? {} : { digits: c.pick(o, path, 'digits', digits, (v, p) => c.int(v, p, 1, 15)) }),
  };
}

/** `create` under `path`: every limit, each filled from `base`; `partial` keeps only the limits written. */
function readCreate(c: ConfigChecker, value: unknown, path: ConfigPath, base: CreateLimitsConfig, partial: boolean): Partial<CreateLimitsConfig> {
  const o = c.mapping(value, path, partial ? CREATE_LIMITS : ['enabled', ...CREATE_LIMITS]);
  const out: Partial<CreateLimitsConfig> = {};
  if (!partial) out.enabled = c.pick(o, path, 'enabled', base.enabled, (v, p) => readBoolean(c, v, p));
  for (const name of CREATE_LIMITS) {
    if (o[name] != null) (out as Record<string, LimitWindow>)[name] = readWindow(c, o[name], [...path, name], base[name]);
    else if (!partial) (out as Record<string, LimitWindow>)[name] = base[name];
  }
  return out;
}

/** `calls`: every call limit, each filled from `base`. */
function readCalls(c: ConfigChecker, value: unknown, path: ConfigPath, base: CallLimitsConfig): CallLimitsConfig {
  const o = c.mapping(value, path, ['enabled', ...CALL_LIMITS]);
  const out = { ...base, enabled: c.pick(o, path, 'enabled', base.enabled, (v, p) => readBoolean(c, v, p)) };
  for (const name of CALL_LIMITS) {
    if (o[name] != null) out[name] = readWindow(c, o[name], [...path, name], base[name]);
  }
  return out;
}

/** `limits`: the creation limits and the call limits. */
export function readLimits(c: ConfigChecker, value: unknown, d: LimitsConfig): LimitsConfig {
  const path = ['limits'];
  const o = c.mapping(value, path, ['create', 'calls']);
  return {
    create: readCreate(c, o.create, [...path, 'create'], d.create, false) as CreateLimitsConfig,
    calls: readCalls(c, o.calls, [...path, 'calls'], d.calls),
  };
}

/** `api.keys[i].limits`: the creation limits this key sets differently; unset fields come from limits.create. */
export function readKeyLimits(c: ConfigChecker, value: unknown, path: ConfigPath, global: LimitsConfig): { create: Partial<CreateLimitsConfig> } {
  const o = c.mapping(value, path, ['create']);
  return { create: readCreate(c, o.create, [...path, 'create'], global.create, true) };
}
