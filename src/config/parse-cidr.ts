import { isIP } from 'node:net';
import type { ParseResult } from './parse-listen.js';

export interface Cidr {
  address: string;
  /** Prefix length; a single address gets the full length (32 or 128). */
  prefix: number;
  family: 4 | 6;
}

/** Parses a trunk source: "203.0.113.7", "198.51.100.0/24", "2001:db8::/32". Host bits past the prefix are allowed. */
export function parseCidr(raw: string): ParseResult<Cidr> {
  const text = raw.trim();
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = isIP(address) as 0 | 4 | 6;
  if (family === 0) return { ok: false, reason: `${JSON.stringify(text)} is not an IP address or CIDR` };
  const max = family === 4 ? 32 : 128;
  if (slash < 0) return { ok: true, value: { address, prefix: max, family } };
  const prefixText = text.slice(slash + 1);
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= max)) {
    return { ok: false, reason: `${JSON.stringify(text)}: prefix length must be from 0 to ${max}` };
  }
  return { ok: true, value: { address, prefix, family } };
}
