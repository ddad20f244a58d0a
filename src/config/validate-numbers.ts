import { isSupportedCountry } from 'libphonenumber-js';
import { NON_GEOGRAPHIC_REGION, NUMBER_TYPES, VERIFICATION_METHODS, type NumberType } from '../numbers/number-types.js';
import type { ConfigChecker, ConfigPath } from './config-checker.js';
import type { MethodPolicyConfig, NumberPolicyOverrides, NumbersConfig, VoipHandling } from './config-types.js';

const POLICY_KEYS = ['allowedTypes', 'voip', 'allowCountries', 'denyCountries'] as const;
const VOIP: readonly VoipHandling[] = ['allow', 'flag', 'refuse'];
const ALLOWABLE_TYPES: readonly NumberType[] = NUMBER_TYPES.filter((t) => t !== 'voip');

function readTypes(c: ConfigChecker, value: unknown, path: ConfigPath): NumberType[] {
  const out: NumberType[] = [];
  c.list(value, path).forEach((item, i) => {
    if (item === 'voip') c.fail([...path, i], 'VoIP is set by the sibling key "voip" (allow, flag or refuse), not listed here');
    const t = c.oneOf(item, [...path, i], ALLOWABLE_TYPES);
    if (!out.includes(t)) out.push(t);
  });
  return out;
}

function readCountries(c: ConfigChecker, value: unknown, path: ConfigPath): string[] {
  return c.list(value, path).map((item, i) => {
    const code = c.string(item, [...path, i]).trim().toUpperCase();
    if (code !== NON_GEOGRAPHIC_REGION && !isSupportedCountry(code)) {
      c.fail([...path, i], `must be an ISO 3166-1 alpha-2 region libphonenumber knows (e.g. "GB"), or "001" for non-geographic codes, got ${JSON.stringify(item)}`);
    }
    return code;
  });
}

/** Every field of one method's policy, each optional; the caller fills gaps (defaults, or the global policy). */
function readPolicyFields(c: ConfigChecker, value: unknown, path: ConfigPath): Partial<MethodPolicyConfig> {
  const o = c.mapping(value, path, POLICY_KEYS);
  const out: Partial<MethodPolicyConfig> = {};
  const at = (key: string): ConfigPath => [...path, key];
  if (o.allowedTypes != null) out.allowedTypes = readTypes(c, o.allowedTypes, at('allowedTypes'));
  if (o.voip != null) out.voip = c.oneOf(o.voip, at('voip'), VOIP);
  if (o.allowCountries != null) out.allowCountries = readCountries(c, o.allowCountries, at('allowCountries'));
  if (o.denyCountries != null) out.denyCountries = readCountries(c, o.denyCountries, at('denyCountries'));
  return out;
}

/** `api.keys[i].policy`: per method, the fields this key sets differently. */
export function readPolicyOverrides(c: ConfigChecker, value: unknown, path: ConfigPath): NumberPolicyOverrides {
  const o = c.mapping(value, path, VERIFICATION_METHODS);
  const out: NumberPolicyOverrides = {};
  for (const method of VERIFICATION_METHODS) {
    if (o[method] != null) out[method] = readPolicyFields(c, o[method], [...path, method]);
  }
  return out;
}

export function readNumbers(c: ConfigChecker, value: unknown, d: NumbersConfig): NumbersConfig {
  const path = ['numbers'];
  const o = c.mapping(value, path, ['policy', 'denyPrefixesFile']);
  const policyPath = [...path, 'policy'];
  const p = c.pick<Record<string, unknown>>(o, path, 'policy', {}, (v) => c.mapping(v, policyPath, VERIFICATION_METHODS));
  const policy = { ...d.policy };
  for (const method of VERIFICATION_METHODS) {
    if (p[method] != null) policy[method] = { ...d.policy[method], ...readPolicyFields(c, p[method], [...policyPath, method]) };
  }
  return {
    policy,
    denyPrefixesFile: c.pick<string | undefined>(o, path, 'denyPrefixesFile', d.denyPrefixesFile, (v, p2) => c.string(v, p2).trim()),
  };
}
