import { BlockList, isIP } from 'node:net';

/**
 * Why an address is not a public unicast address. The labels are also the metric's `reason` values,
 * so they are stable.
 */
export type AddressClass =
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'cgnat'
  | 'multicast'
  | 'unspecified'
  | 'reserved';

/** Words for messages: "10.0.0.1 is a private address". */
export const ADDRESS_CLASS_TEXT: Readonly<Record<AddressClass, string>> = {
  loopback: 'loopback',
  private: 'private-network',
  'link-local': 'link-local',
  cgnat: 'carrier-grade NAT (100.64.0.0/10)',
  multicast: 'multicast',
  unspecified: 'unspecified ("this host")',
  reserved: 'reserved or special-purpose',
};

/** The loopback ranges; also what the zero-config demo allows (see webhooks.allowPrivateTargets). */
export const LOOPBACK_CIDRS: readonly string[] = ['127.0.0.0/8', '::1/128'];

type Range = readonly [cidr: string, cls: AddressClass];

/**
 * IPv4 special-purpose ranges (IANA registry, RFC 6890 and successors), multicast and the
 * former class E. They do not overlap, so their order does not matter.
 */
const V4: readonly Range[] = [
  ['0.0.0.0/8', 'unspecified'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'cgnat'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'],
  ['192.0.2.0/24', 'reserved'],
  ['192.88.99.0/24', 'reserved'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'reserved'],
  ['198.51.100.0/24', 'reserved'],
  ['203.0.113.0/24', 'reserved'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
];

/**
 * IPv6 ranges, most specific first (the first match wins: "::" and "::1" sit inside "::/96").
 * IPv4-mapped addresses (::ffff:0:0/96) are not listed: they are judged as the IPv4 address they
 * carry. NAT64 (64:ff9b::/96) carries an IPv4 address too; its rules are derived from V4 below.
 */
const V6: readonly Range[] = [
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['::/96', 'reserved'], // IPv4-compatible, deprecated
  ['64:ff9b:1::/48', 'private'], // local-use NAT64 (RFC 8215)
  ['100::/64', 'reserved'], // discard-only
  ['2001::/23', 'reserved'], // IETF protocol assignments (Teredo, benchmarking, ...)
  ['2001:db8::/32', 'reserved'], // documentation
  ['2002::/16', 'reserved'], // 6to4: would reach whatever IPv4 address it embeds
  ['3fff::/20', 'reserved'], // documentation
  ['5f00::/16', 'reserved'], // SRv6 SIDs
  ['fc00::/7', 'private'], // unique local
  ['fec0::/10', 'private'], // site-local, deprecated
  ['fe80::/10', 'link-local'],
  ['ff00::/8', 'multicast'],
];

const NAT64_PREFIX = '64:ff9b::';

function splitCidr(cidr: string): { address: string; prefix: number } {
  const slash = cidr.indexOf('/');
  return { address: cidr.slice(0, slash), prefix: Number(cidr.slice(slash + 1)) };
}

interface ClassList {
  cls: AddressClass;
  list: BlockList;
}

function compile(ranges: ReadonlyArray<{ address: string; prefix: number; cls: AddressClass; type: 'ipv4' | 'ipv6' }>): ClassList[] {
  return ranges.map(({ address, prefix, cls, type }) => {
    const list = new BlockList();
    list.addSubnet(address, prefix, type);
    return { cls, list };
  });
}

const V4_LISTS = compile(V4.map(([cidr, cls]) => ({ ...splitCidr(cidr), cls, type: 'ipv4' as const })));
const V6_LISTS = compile([
  ...V6.map(([cidr, cls]) => ({ ...splitCidr(cidr), cls, type: 'ipv6' as const })),
  // 64:ff9b::a.b.c.d is a.b.c.d through the NAT64 gateway: the same class, 96 bits further in.
  ...V4.map(([cidr, cls]) => {
    const { address, prefix } = splitCidr(cidr);
    return { address: NAT64_PREFIX + address, prefix: 96 + prefix, cls, type: 'ipv6' as const };
  }),
]);

function single(cidr: string): BlockList {
  const list = new BlockList();
  const { address, prefix } = splitCidr(cidr);
  list.addSubnet(address, prefix, 'ipv6');
  return list;
}

/** IPv4-mapped IPv6; BlockList also answers true for plain IPv4 here, which suits the test below. */
const MAPPED = single('::ffff:0:0/96');
/** NAT64 with a public IPv4 inside: a normal destination on IPv6-only networks with DNS64. */
const NAT64 = single(`${NAT64_PREFIX}/96`);
/** IANA allocates global unicast from 2000::/3 only. */
const GLOBAL_UNICAST = single('2000::/3');

/** Drops brackets and an IPv6 zone id ("fe80::1%eth0"): the zone must not hide the address. */
export function bareAddress(address: string): string {
  let s = address.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  return zone >= 0 ? s.slice(0, zone) : s;
}

/**
 * The class of an IP address, or 'public' for a public unicast address, or undefined when the text
 * is not an IP address. Any textual IP form node accepts is judged by its value (BlockList compares
 * parsed addresses, never text).
 */
export function classifyAddress(address: string): AddressClass | 'public' | undefined {
  const ip = bareAddress(address);
  const family = isIP(ip);
  if (family === 0) return undefined;
  if (family === 4 || MAPPED.check(ip, 'ipv6')) {
    // BlockList matches an IPv4-mapped IPv6 address against IPv4 rules.
    const type = family === 4 ? 'ipv4' : 'ipv6';
    for (const { cls, list } of V4_LISTS) if (list.check(ip, type)) return cls;
    return 'public';
  }
  for (const { cls, list } of V6_LISTS) if (list.check(ip, 'ipv6')) return cls;
  if (NAT64.check(ip, 'ipv6')) return 'public';
  return GLOBAL_UNICAST.check(ip, 'ipv6') ? 'public' : 'reserved';
}
