import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MethodPolicyConfig, NumbersConfig } from '../config/config-types.js';
import type { VerificationMethod } from './number-types.js';

/**
 * The documented defaults (README "Number policy"). Both methods refuse premium-rate, shared-cost,
 * UAN, pager, voicemail and unknown (not valid) numbers: nobody verifies with those, and they are
 * where revenue-share fraud and SMS pumping pay out. Inbound missed calls cost the operator nothing
 * per call, so they keep fixed lines, toll-free and personal numbers and flag VoIP; a flash call is
 * a call we place and pay for, so it rings only mobiles (and NANP numbers that may be mobiles).
 */
export const DEFAULT_METHOD_POLICIES: Readonly<Record<VerificationMethod, Readonly<MethodPolicyConfig>>> = {
  inbound_call: {
    allowedTypes: ['mobile', 'fixed_line', 'fixed_line_or_mobile', 'toll_free', 'personal'],
    voip: 'flag',
    allowCountries: [],
    denyCountries: [],
  },
  flash_call: {
    allowedTypes: ['mobile', 'fixed_line_or_mobile'],
    voip: 'refuse',
    allowCountries: [],
    denyCountries: [],
  },
};

/** The commented starting list shipped in config/, found from this module so any working directory works. */
export const SHIPPED_DENY_PREFIXES_FILE = fileURLToPath(new URL('../../config/number-deny-prefixes.txt', import.meta.url));

/** The deny-prefix file in force: the configured one (relative to the working directory), else the shipped one. */
export function denyPrefixesPath(numbers: Pick<NumbersConfig, 'denyPrefixesFile'>): string {
  return numbers.denyPrefixesFile === undefined ? SHIPPED_DENY_PREFIXES_FILE : resolve(numbers.denyPrefixesFile);
}

export function defaultNumbersConfig(): NumbersConfig {
  const copy = (p: Readonly<MethodPolicyConfig>): MethodPolicyConfig => ({
    allowedTypes: [...p.allowedTypes],
    voip: p.voip,
    allowCountries: [...p.allowCountries],
    denyCountries: [...p.denyCountries],
  });
  return {
    policy: { inbound_call: copy(DEFAULT_METHOD_POLICIES.inbound_call), flash_call: copy(DEFAULT_METHOD_POLICIES.flash_call) },
    denyPrefixesFile: undefined,
    carrierLookup: {
      url: undefined, timeoutMs: 800, cacheTtlSeconds: 86_400, cacheSize: 100_000, onError: 'allow', headers: {}, allowPrivateTargets: [],
    },
  };
}
