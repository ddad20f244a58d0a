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

/**
 * Source addresses in logs of automatic actions (flood bans): the last IPv4 octet, or everything past
 * an IPv6 /48, is hidden. What remains is enough to find the network and write a firewall rule for it.
 */
export function maskAddress(address: string): string {
  const v4 = /^(\d{1,3}\.\d{1,3}\.\d{1,3})\.\d{1,3}$/.exec(address);
  if (v4) return `${v4[1]}.*`;
  const colon = address.indexOf(':');
  if (colon < 0) return '*';
  const groups = address.split(':').slice(0, 3).map((g) => g || '0');
  return `${groups.join(':')}:*`;
}
