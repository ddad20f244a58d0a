import type { ConversionConfig } from '../config/config-types.js';

/**
 * The counters of created and verified sessions per number prefix, for the low-conversion throttle:
 * one pair per fixed window (`windowSeconds`), kept two windows, so the API reads the current and
 * the previous one. The API counts creations, the call worker verifications (the verified CLI is
 * the session's number), both through these keys.
 */
export function conversionKeys(prefix: string, c: ConversionConfig, phoneNumber: string, now: number): {
  /** This window's and the previous one's counters: created then verified. */
  created: [string, string];
  verified: [string, string];
  /** The throttle's counter while the prefix converts too rarely. */
  throttle: string;
  /** The number prefix counted (first prefixDigits digits, + included). */
  subject: string;
  /** Seconds a window's counters are kept. */
  ttlSeconds: number;
} {
  const subject = phoneNumber.slice(0, 1 + c.prefixDigits);
  const bucket = Math.floor(now / (c.windowSeconds * 1000));
  const key = (kind: string, b: number): string => `${prefix}:conv:${kind}:${c.prefixDigits}:${c.windowSeconds}:${b}:${subject}`;
  return {
    created: [key('c', bucket), key('c', bucket - 1)],
    verified: [key('v', bucket), key('v', bucket - 1)],
    throttle: `${prefix}:conv:t:${c.prefixDigits}:${subject}`,
    subject,
    ttlSeconds: 2 * c.windowSeconds,
  };
}
