/**
 * Phone numbers never reach the logs in clear: keep the leading "+" and country-ish prefix and the
 * last two digits, so operators can still correlate ("+4477******12").
 */
export function maskNumber(n: string | null | undefined): string | null {
  if (n == null) return null;
  const len = n.length;
  if (len <= 4) return '*'.repeat(len);
  const head = n.startsWith('+') ? Math.min(4, len - 4) : Math.min(3, len - 4);
  return n.slice(0, head) + '*'.repeat(len - head - 2) + n.slice(len - 2);
}
