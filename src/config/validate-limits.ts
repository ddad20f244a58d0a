import { CALL_LIMITS } from '../limits/call-limit-defaults.js';
import { CREATE_LIMITS } from '../limits/create-limit-defaults.js';
import { readBoolean } from './read-boolean.js';
import type { ConfigChecker, ConfigPath } from './config-checker.js';
import type { CallLimitsConfig, ConversionConfig, CreateLimitsConfig, LimitWindow, LimitsConfig } from './config-types.js';

const MAX_WINDOW_SECONDS = 7 * 86_400;

/** One limit: `{count, windowSeconds}` (perPrefix also `digits`); a key left out keeps `fallback`'s. */
export function readWindow<T extends LimitWindow>(c: ConfigChecker, value: unknown, path: ConfigPath, fallback: T): T {
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

/** `conversion`: the low-conversion throttle. */
function readConversion(c: ConfigChecker, value: unknown, path: ConfigPath, d: ConversionConfig): ConversionConfig {
  const o = c.mapping(value, path, ['enabled', 'prefixDigits', 'windowSeconds', 'minCreated', 'minRate', 'throttle']);
  return {
    enabled: c.pick(o, path, 'enabled', d.enabled, (v, p) => readBoolean(c, v, p)),
    prefixDigits: c.pick(o, path, 'prefixDigits', d.prefixDigits, (v, p) => c.int(v, p, 1, 15)),
    windowSeconds: c.pick(o, path, 'windowSeconds', d.windowSeconds, (v, p) => c.int(v, p, 60, MAX_WINDOW_SECONDS)),
    minCreated: c.pick(o, path, 'minCreated', d.minCreated, (v, p) => c.int(v, p, 1, 1_000_000_000)),
    minRate: c.pick(o, path, 'minRate', d.minRate, (v, p) => {
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) c.fail(p, `must be a number from 0 to 1, got ${JSON.stringify(v)}`);
      return v as number;
    }),
    throttle: o.throttle != null ? readWindow(c, o.throttle, [...path, 'throttle'], d.throttle) : d.throttle,
  };
}

/** `limits`: the creation limits, the call limits and the low-conversion throttle. */
export function readLimits(c: ConfigChecker, value: unknown, d: LimitsConfig): LimitsConfig {
  const path = ['limits'];
  const o = c.mapping(value, path, ['create', 'calls', 'conversion']);
  return {
    create: readCreate(c, o.create, [...path, 'create'], d.create, false) as CreateLimitsConfig,
    calls: readCalls(c, o.calls, [...path, 'calls'], d.calls),
    conversion: readConversion(c, o.conversion, [...path, 'conversion'], d.conversion),
  };
}

/** `api.keys[i].limits`: the creation limits this key sets differently; unset fields come from limits.create. */
export function readKeyLimits(c: ConfigChecker, value: unknown, path: ConfigPath, global: LimitsConfig): { create: Partial<CreateLimitsConfig> } {
  const o = c.mapping(value, path, ['create']);
  return { create: readCreate(c, o.create, [...path, 'create'], global.create, true) };
}
