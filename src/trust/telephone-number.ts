/** Longest TN we compare; E.164 allows 15 digits, a little slack for carrier oddities. */
const MAX_TN_DIGITS = 20;

/**
 * The canonical TN of RFC 8224 section 8.3 as SHAKEN carries it in orig.tn / dest.tn: digits only,
 * no "+", visual separators ("-", ".", "(", ")", space) removed. Undefined when anything else is left.
 */
export function canonicalTn(text: string): string | undefined {
  if (text.length === 0 || text.length > MAX_TN_DIGITS * 2) return undefined;
  const s = text.replace(/[-.() ]/g, '');
  const digits = s.startsWith('+') ? s.slice(1) : s;
  return /^\d+$/.test(digits) && digits.length <= MAX_TN_DIGITS ? digits : undefined;
}

/** E.164 "+15551234567" → "15551234567" for comparison with a canonical TN. */
export function e164Digits(e164: string | null): string | undefined {
  return e164 === null ? undefined : canonicalTn(e164);
}
