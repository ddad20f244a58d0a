import type { ConversionConfig, CreateLimitsConfig, LimitsConfig } from '../config/config-types.js';
import { defaultCallLimits } from './call-limit-defaults.js';

/** The creation limits, in the order they are checked and named in a refusal. */
export const CREATE_LIMITS = ['perNumber', 'perPrefix', 'perCountry', 'perApiKey', 'perClientIp'] as const;
export type CreateLimitName = (typeof CREATE_LIMITS)[number];

/**
 * Defaults that stop a pumping run within tens of sessions: a number gets 5 sessions an hour (a
 * user retrying is fine), a block of numbers sharing 9 leading digits (100 to 1,000 numbers) 20 an
 * hour, a country 300 an hour. The key and client-IP caps are a backstop for a leaked key; an app
 * with more traffic raises them (per key: api.keys[i].limits.create).
 */
export function defaultCreateLimits(): CreateLimitsConfig {
  return {
    enabled: true,
    perNumber: { count: 5, windowSeconds: 3600 },
    perPrefix: { count: 20, windowSeconds: 3600, digits: 9 },
    perCountry: { count: 300, windowSeconds: 3600 },
    perApiKey: { count: 1000, windowSeconds: 3600 },
    perClientIp: { count: 1000, windowSeconds: 3600 },
  };
}

/**
 * A missed-call verification converts often (the user calls); a pumping run converts never (nobody
 * calls the numbers it creates sessions for). A block of 10,000 numbers (7 digits with the country
 * code, e.g. +1 202 555) with 50 or more creations in a day or two of which under 20 % verified gets
 * 5 creations an hour until it converts again or its counts age out.
 */
export function defaultConversionConfig(): ConversionConfig {
  return { enabled: true, prefixDigits: 7, windowSeconds: 86_400, minCreated: 50, minRate: 0.2, throttle: { count: 5, windowSeconds: 3600 } };
}

export function defaultLimitsConfig(): LimitsConfig {
  return { create: defaultCreateLimits(), calls: defaultCallLimits(), conversion: defaultConversionConfig() };
}
