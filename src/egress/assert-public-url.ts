import { isIP } from 'node:net';
import type { EgressPolicy, EgressRefusal } from './egress-policy.js';
import { EgressRefusedError } from './egress-refused-error.js';
import { bareAddress } from './egress-ranges.js';

/** "localhost", "LOCALHOST.", "app.localhost": names RFC 6761 reserves for the loopback interface. */
export function isLocalhostName(hostname: string): boolean {
  let end = hostname.length;
  while (end > 0 && hostname.charCodeAt(end - 1) === 46) end--; // trailing dots: "localhost." is localhost
  const name = hostname.slice(0, end).toLowerCase();
  return name === 'localhost' || name.endsWith('.localhost');
}

/**
 * What the URL's text alone tells: a refused IP literal (in any spelling the WHATWG parser accepts:
 * "0x7f000001", "2130706433", "0177.0.0.1", "127.1", "[::ffff:7f00:1]", "127.0.0.1." all arrive
 * here as the address they mean) or a localhost name. Names are not resolved: what a name points at
 * is checked when connecting (createGuardedAgent), where a DNS rebind cannot slip past.
 */
export function checkUrlTarget(url: URL, policy: EgressPolicy): EgressRefusal | undefined {
  const host = bareAddress(url.hostname);
  if (isIP(host) !== 0) return policy.check(host);
  if (isLocalhostName(host)) return policy.check('127.0.0.1', url.hostname);
  return undefined;
}

/** Parses `url` and throws EgressRefusedError when its host is a refused literal or localhost name. */
export function assertPublicUrl(url: string | URL, policy: EgressPolicy): URL {
  const parsed = typeof url === 'string' ? new URL(url) : url;
  const refusal = checkUrlTarget(parsed, policy);
  if (refusal) throw new EgressRefusedError(refusal);
  return parsed;
}
