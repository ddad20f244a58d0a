import { isIP } from 'node:net';
import { compileIpMatcher } from '../net/ip-matcher.js';

/**
 * Addresses a verifier must not be pointed at by a caller-supplied URL (x5u): loopback, private,
 * link-local, CGNAT, unique-local, multicast, reserved and "this network", in IPv4 and IPv6, plus
 * NAT64 (which can reach any IPv4 address). IPv4-mapped IPv6 is matched as its IPv4 form.
 */
const NON_PUBLIC = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12',
  '192.0.0.0/24', '192.168.0.0/16', '198.18.0.0/15', '224.0.0.0/4', '240.0.0.0/4',
  '::/128', '::1/128', '64:ff9b::/96', '64:ff9b:1::/48', 'fc00::/7', 'fe80::/10', 'ff00::/8',
];

const nonPublic = compileIpMatcher(NON_PUBLIC.map((cidr) => ({ cidr, value: true })));

/** True for a literal IP address outside every non-public range; false for non-public and for garbage. */
export function isPublicAddress(address: string): boolean {
  const zone = address.indexOf('%');
  const ip = zone >= 0 ? address.slice(0, zone) : address;
  return isIP(ip) !== 0 && nonPublic.match(ip.toLowerCase()) !== true;
}
