import { BlockList, isIP } from 'node:net';
import { parseCidr } from '../config/parse-cidr.js';
import { ADDRESS_CLASS_TEXT, bareAddress, classifyAddress, type AddressClass } from './egress-ranges.js';

/** Why a destination was refused: an address class, or 'invalid' for text that is no IP address. */
export type EgressRefusalReason = AddressClass | 'invalid';

/** One refused destination, with what a log line or an error message needs. */
export interface EgressRefusal {
  reason: EgressRefusalReason;
  /** The address that was refused (as resolved or as written). */
  address: string;
  /** The host name or literal the client asked for. */
  host: string;
  /** One line for logs, error bodies and dead-letter records. */
  message: string;
}

export interface EgressPolicyOptions {
  /**
   * CIDRs ("10.20.0.0/16", "127.0.0.1", "fd00::/8") that may be reached although they are not
   * public. Unspecified and multicast addresses are never allowed: no HTTP receiver lives there,
   * and 0.0.0.0 reaches the local host on Linux.
   */
  allowPrivateTargets?: readonly string[];
  /** The configuration key operators set the list with, named in refusal messages. */
  configKey?: string;
}

/**
 * Which destinations outbound HTTP from ringproof may reach (webhooks; later STIR/SHAKEN x5u
 * certificates and carrier look-ups). Compiled once at start-up and shared; immutable.
 */
export interface EgressPolicy {
  readonly allowPrivateTargets: readonly string[];
  readonly configKey: string | undefined;
  /** undefined when `address` may be reached; `host` is what the caller asked for, for the message. */
  check(address: string, host?: string): EgressRefusal | undefined;
}

const NEVER_ALLOWED: ReadonlySet<EgressRefusalReason> = new Set(['unspecified', 'multicast', 'invalid']);

export function describeRefusal(reason: EgressRefusalReason, address: string, host: string, configKey?: string): string {
  const text = reason === 'invalid' ? '' : ADDRESS_CLASS_TEXT[reason];
  const what = reason === 'invalid' ? 'not an IP address' : `${/^[aeiou]/.test(text) ? 'an' : 'a'} ${text} address`;
  const target = host !== '' && host !== address ? `${host} resolves to ${address}` : address;
  const allow = configKey !== undefined && !NEVER_ALLOWED.has(reason) ? ` (allow it with ${configKey})` : '';
  return `${target}, ${what}${allow}`;
}

/** Compiles a policy. Throws TypeError on a malformed CIDR (config validation checks them first). */
export function createEgressPolicy(opts: EgressPolicyOptions = {}): EgressPolicy {
  const allowed = [...(opts.allowPrivateTargets ?? [])];
  const allowList = new BlockList();
  for (const cidr of allowed) {
    const parsed = parseCidr(cidr);
    if (!parsed.ok) throw new TypeError(parsed.reason);
    const { address, prefix, family } = parsed.value;
    allowList.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  const configKey = opts.configKey;
  return Object.freeze({
    allowPrivateTargets: Object.freeze(allowed),
    configKey,
    check(address: string, host = ''): EgressRefusal | undefined {
      const cls = classifyAddress(address);
      if (cls === 'public') return undefined;
      const reason: EgressRefusalReason = cls ?? 'invalid';
      if (!NEVER_ALLOWED.has(reason)) {
        const ip = bareAddress(address);
        if (allowList.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4')) return undefined;
      }
      return { reason, address, host, message: describeRefusal(reason, address, host, configKey) };
    },
  });
}
