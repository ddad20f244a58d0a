import { compileIpMatcher } from '../net/ip-matcher.js';
import { LOOPBACK_TRUNK } from '../edge/trunk-acl.js';

// The same loopback ranges as the SIP edge's built-in trunk, and the same matcher (which also
// treats IPv4-mapped IPv6 addresses as their IPv4 form, as a dual-stack socket reports them).
const loopback = compileIpMatcher(LOOPBACK_TRUNK.sources.map((cidr) => ({ cidr, value: true })));

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped / long IPv6 forms. */
export function isLoopbackAddress(ip: string | undefined): boolean {
  if (!ip) return false;
  // Zone ids ("::1%lo") never appear on loopback in practice, but must not defeat the check.
  const zone = ip.indexOf('%');
  return loopback.match((zone >= 0 ? ip.slice(0, zone) : ip).trim().toLowerCase()) === true;
}
