/**
 * CIDR matching for the per-packet trunk ACL. Rules are compiled once: IPv4 as uint32 network/mask,
 * IPv6 as four uint32 words. IPv4-mapped IPv6 ("::ffff:1.2.3.4", what a dual-stack socket reports for
 * IPv4 peers) is matched against the IPv4 rules, and a "::ffff:a.b.c.d/n" rule (n >= 96) becomes an
 * IPv4 rule. The most specific rule wins; equal prefixes keep configuration order.
 */

export interface IpRuleInput<T> {
  /** "10.0.0.0/8", "192.0.2.1", "2001:db8::/32", "::1", "::ffff:198.51.100.0/120". */
  cidr: string;
  value: T;
}

export interface IpMatcher<T> {
  /** The value of the most specific rule containing the address, or undefined (also for garbage). */
  match(address: string): T | undefined;
}

interface V4Rule<T> {
  net: number;
  mask: number;
  prefix: number;
  value: T;
}

interface V6Rule<T> {
  net: Uint32Array;
  mask: Uint32Array;
  prefix: number;
  value: T;
}

export interface ParsedCidr {
  family: 4 | 6;
  /** IPv4: one word; IPv6: four words, most significant first. */
  words: Uint32Array;
  prefix: number;
}

/** Parses dotted-quad IPv4 to an unsigned 32-bit number; undefined when not strictly a.b.c.d. */
export function parseIpv4(s: string): number | undefined {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      // Leading zeros are refused: "010" is octal to some parsers, decimal to others.
      if (digits > 0 && octet === 0) return undefined;
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return undefined;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return undefined;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else {
      return undefined;
    }
  }
  if (dots !== 3 || digits === 0) return undefined;
  return (value * 256 + octet) >>> 0;
}

/** Parses IPv6 text (with "::", an embedded IPv4 tail, optional brackets and zone id) to four words. */
export function parseIpv6(input: string): Uint32Array | undefined {
  let s = input;
  if (s.length > 2 && s.charCodeAt(0) === 91 && s.charCodeAt(s.length - 1) === 93) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (s.length < 2 || s.length > 45) return undefined;
  const groups: number[] = [];
  let gap = -1;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  for (let h = 0; h < halves.length; h++) {
    const half = halves[h] as string;
    if (h === 1) gap = groups.length;
    if (half === '') continue;
    const parts = half.split(':');
    for (let p = 0; p < parts.length; p++) {
      const part = parts[p] as string;
      if (part.includes('.')) {
        // An IPv4 tail is allowed only as the very last group.
        if (h !== halves.length - 1 || p !== parts.length - 1) return undefined;
        const v4 = parseIpv4(part);
        if (v4 === undefined) return undefined;
        groups.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (part.length === 0 || part.length > 4 || !/^[0-9a-fA-F]+$/.test(part)) return undefined;
        groups.push(parseInt(part, 16));
      }
    }
  }
  if (gap >= 0) {
    if (groups.length > 7) return undefined;
    const fill = new Array<number>(8 - groups.length).fill(0);
    groups.splice(gap, 0, ...fill);
  } else if (groups.length !== 8) {
    return undefined;
  }
  const words = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    words[i] = (((groups[2 * i] as number) << 16) | (groups[2 * i + 1] as number)) >>> 0;
  }
  return words;
}

function isV4Mapped(w: Uint32Array): boolean {
  return w[0] === 0 && w[1] === 0 && w[2] === 0xffff;
}

/** Parses "addr" or "addr/prefix"; mapped IPv6 becomes IPv4. Undefined when malformed. */
export function parseCidr(text: string): ParsedCidr | undefined {
  const s = text.trim();
  const slash = s.indexOf('/');
  const addr = slash >= 0 ? s.slice(0, slash) : s;
  const prefixText = slash >= 0 ? s.slice(slash + 1) : undefined;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const v4 = parseIpv4(addr);
  if (v4 !== undefined) {
    const prefix = prefixText === undefined ? 32 : Number(prefixText);
    if (prefix > 32) return undefined;
    return { family: 4, words: Uint32Array.of(v4), prefix };
  }
  const v6 = parseIpv6(addr);
  if (v6 === undefined) return undefined;
  const prefix = prefixText === undefined ? 128 : Number(prefixText);
  if (prefix > 128) return undefined;
  if (isV4Mapped(v6) && prefix >= 96) {
    return { family: 4, words: Uint32Array.of(v6[3] as number), prefix: prefix - 96 };
  }
  return { family: 6, words: v6, prefix };
}

function v4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

function v6Mask(prefix: number): Uint32Array {
  const mask = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    const bits = Math.max(0, Math.min(32, prefix - 32 * i));
    mask[i] = v4Mask(bits);
  }
  return mask;
}

/** Marker stored in the cache for "no rule matched", so misses are cached too. */
const NO_MATCH = Symbol('no-match');

export interface IpMatcherOptions {
  /** Most recent address results kept; 0 disables the cache. */
  cacheSize?: number;
}

/**
 * Compiles rules; throws RangeError naming the bad entry (callers wrap it in their config error).
 */
export function compileIpMatcher<T>(rules: readonly IpRuleInput<T>[], opts: IpMatcherOptions = {}): IpMatcher<T> {
  const v4: V4Rule<T>[] = [];
  const v6: V6Rule<T>[] = [];
  for (const rule of rules) {
    const c = parseCidr(rule.cidr);
    if (c === undefined) throw new RangeError(`not an IP address or CIDR: "${rule.cidr}"`);
    if (c.family === 4) {
      const mask = v4Mask(c.prefix);
      v4.push({ net: ((c.words[0] as number) & mask) >>> 0, mask, prefix: c.prefix, value: rule.value });
    } else {
      const mask = v6Mask(c.prefix);
      const net = new Uint32Array(4);
      for (let i = 0; i < 4; i++) net[i] = ((c.words[i] as number) & (mask[i] as number)) >>> 0;
      v6.push({ net, mask, prefix: c.prefix, value: rule.value });
    }
  }
  // Stable sort: longest prefix first, configuration order among equals.
  v4.sort((a, b) => b.prefix - a.prefix);
  v6.sort((a, b) => b.prefix - a.prefix);

  const matchV4 = (ip: number): T | undefined => {
    for (let i = 0; i < v4.length; i++) {
      const r = v4[i] as V4Rule<T>;
      if (((ip & r.mask) >>> 0) === r.net) return r.value;
    }
    return undefined;
  };
  const matchV6 = (w: Uint32Array): T | undefined => {
    for (let i = 0; i < v6.length; i++) {
      const r = v6[i] as V6Rule<T>;
      const m = r.mask;
      const n = r.net;
      if (
        (((w[0] as number) & (m[0] as number)) >>> 0) === n[0] &&
        (((w[1] as number) & (m[1] as number)) >>> 0) === n[1] &&
        (((w[2] as number) & (m[2] as number)) >>> 0) === n[2] &&
        (((w[3] as number) & (m[3] as number)) >>> 0) === n[3]
      ) {
        return r.value;
      }
    }
    return undefined;
  };
  const compute = (address: string): T | undefined => {
    if (address.indexOf(':') < 0) {
      const ip = parseIpv4(address);
      return ip === undefined ? undefined : matchV4(ip);
    }
    const w = parseIpv6(address);
    if (w === undefined) return undefined;
    return isV4Mapped(w) ? matchV4(w[3] as number) : matchV6(w);
  };

  const cacheSize = opts.cacheSize ?? 4096;
  if (cacheSize <= 0) return { match: compute };
  // A plain Map emptied when full: cheaper per packet than LRU bookkeeping, and the few trunk
  // addresses that carry the traffic are back in it after one packet each.
  const cache = new Map<string, T | typeof NO_MATCH>();
  return {
    match(address: string): T | undefined {
      const hit = cache.get(address);
      if (hit !== undefined) return hit === NO_MATCH ? undefined : hit;
      const v = compute(address);
      if (cache.size >= cacheSize) cache.clear();
      cache.set(address, v === undefined ? NO_MATCH : v);
      return v;
    },
  };
}
