import { isSupportedCountry } from 'libphonenumber-js';
import { NON_GEOGRAPHIC_REGION, NUMBER_TYPES, VERIFICATION_METHODS, type NumberType } from '../numbers/number-types.js';
import type { ConfigChecker, ConfigPath } from './config-checker.js';
import { carrierLookupEgressPolicy } from '../numbers/carrier-lookup.js';
import { checkCallbackUrl } from '../webhooks/callback-url-rules.js';
import type { CarrierLookupConfig, MethodPolicyConfig, NumberPolicyOverrides, NumbersConfig, VoipHandling } from './config-types.js';
import { readCidrList } from './read-cidr-list.js';

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
  const o = c.mapping(value, path, ['policy', 'denyPrefixesFile', 'carrierLookup']);
  const policyPath = [...path, 'policy'];
  const p = c.pick<Record<string, unknown>>(o, path, 'policy', {}, (v) => c.mapping(v, policyPath, VERIFICATION_METHODS));
  const policy = { ...d.policy };
  for (const method of VERIFICATION_METHODS) {
    if (p[method] != null) policy[method] = { ...d.policy[method], ...readPolicyFields(c, p[method], [...policyPath, method]) };
  }
  return {
    policy,
    denyPrefixesFile: c.pick<string | undefined>(o, path, 'denyPrefixesFile', d.denyPrefixesFile, (v, p2) => c.string(v, p2).trim()),
    carrierLookup: readCarrierLookup(c, o.carrierLookup, d.carrierLookup),
  };
}

const LOOKUP_KEYS = ['url', 'timeoutMs', 'cacheTtlSeconds', 'cacheSize', 'onError', 'headers', 'allowPrivateTargets'] as const;
/** RFC 9110 token: a header name. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Set by the lookup client itself: a configured one would break the request. */
const RESERVED_HEADERS = ['content-type', 'content-length', 'host', 'accept', 'transfer-encoding', 'connection'];

function readHeaders(c: ConfigChecker, value: unknown, path: ConfigPath): Record<string, string> {
  const o = c.mapping(value, path, Object.keys(value ?? {}));
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(o)) {
    if (!HEADER_NAME.test(name)) c.fail([...path, name], 'is not a valid HTTP header name');
    if (RESERVED_HEADERS.includes(name.toLowerCase())) c.fail([...path, name], 'is set by ringproof itself');
    const text = c.string(v, [...path, name]);
    if (/[\r\n\0]/.test(text)) c.fail([...path, name], 'must not contain line breaks');
    out[name] = text;
  }
  return out;
}

function readCarrierLookup(c: ConfigChecker, value: unknown, d: CarrierLookupConfig): CarrierLookupConfig {
  const path = ['numbers', 'carrierLookup'];
  const o = c.mapping(value, path, LOOKUP_KEYS);
  const allowPrivateTargets = c.pick(o, path, 'allowPrivateTargets', d.allowPrivateTargets, (v, p) => readCidrList(c, v, p, { nonEmpty: false }));
  return {
    // The same rules as a webhook URL (https unless loopback, no credentials, public unless allowed),
    // judged against the lookup's own allowPrivateTargets.
    url: c.pick<string | undefined>(o, path, 'url', d.url, (v, p) => {
      const s = c.string(v, p).trim();
      const r = checkCallbackUrl(s, carrierLookupEgressPolicy({ allowPrivateTargets }));
      if (!r.ok) c.fail(p, `${r.problem}, got ${JSON.stringify(s)}`);
      return s;
    }),
    timeoutMs: c.pick(o, path, 'timeoutMs', d.timeoutMs, (v, p) => c.int(v, p, 50, 10_000)),
    cacheTtlSeconds: c.pick(o, path, 'cacheTtlSeconds', d.cacheTtlSeconds, (v, p) => c.int(v, p, 0, 30 * 86_400)),
    cacheSize: c.pick(o, path, 'cacheSize', d.cacheSize, (v, p) => c.int(v, p, 0, 10_000_000)),
    onError: c.pick(o, path, 'onError', d.onError, (v, p) => c.oneOf(v, p, ['allow', 'refuse'] as const)),
    headers: c.pick(o, path, 'headers', d.headers, (v, p) => readHeaders(c, v, p)),
    allowPrivateTargets,
  };
}
