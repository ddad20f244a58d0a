import { describe, expect, it } from 'vitest';
import type { TrunkConfig } from '../../src/config/config-types.js';
import { isRingproofError } from '../../src/errors/ringproof-error.js';
import { compileIpMatcher, parseCidr, parseIpv4, parseIpv6 } from '../../src/net/ip-matcher.js';
import { LOOPBACK_TRUNK, createTrunkAcl } from '../../src/edge/trunk-acl.js';

const trunk = (name: string, sources: string[]): TrunkConfig => ({
  name, sources, defaultCountry: 'US', rejectCode: 486, cliSources: ['pai', 'rpid', 'from'],
});

describe('address parsing', () => {
  it('parses IPv4 strictly', () => {
    expect(parseIpv4('192.0.2.1')).toBe(0xc0000201);
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIpv4('0.0.0.0')).toBe(0);
    for (const bad of ['256.0.0.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1..2.3', 'a.b.c.d', '', '1.2.3.4 ']) {
      expect(parseIpv4(bad)).toBeUndefined();
    }
  });

  it('parses IPv6 forms', () => {
    expect(Array.from(parseIpv6('::1')!)).toEqual([0, 0, 0, 1]);
    expect(Array.from(parseIpv6('2001:db8::')!)).toEqual([0x20010db8, 0, 0, 0]);
    expect(Array.from(parseIpv6('::ffff:192.0.2.1')!)).toEqual([0, 0, 0xffff, 0xc0000201]);
    expect(Array.from(parseIpv6('[fe80::1%eth0]')!)).toEqual([0xfe800000, 0, 0, 1]);
    expect(Array.from(parseIpv6('1:2:3:4:5:6:7:8')!)).toEqual([0x10002, 0x30004, 0x50006, 0x70008]);
    for (const bad of ['1::2::3', '12345::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', ':::', 'g::1', '1.2.3.4::', '::1.2.3']) {
      expect(parseIpv6(bad)).toBeUndefined();
    }
  });

  it('turns a mapped IPv6 CIDR into an IPv4 one', () => {
    expect(parseCidr('::ffff:198.51.100.0/120')).toEqual({ family: 4, words: Uint32Array.of(0xc6336400), prefix: 24 });
    expect(parseCidr('10.0.0.0/33')).toBeUndefined();
    expect(parseCidr('::/129')).toBeUndefined();
    expect(parseCidr('10.0.0.0/')).toBeUndefined();
  });
});

describe('compileIpMatcher', () => {
  const m = compileIpMatcher([
    { cidr: '10.0.0.0/8', value: 'ten' },
    { cidr: '10.1.2.0/24', value: 'ten-one-two' },
    { cidr: '192.0.2.7', value: 'host' },
    { cidr: '2001:db8:abcd::/48', value: 'v6' },
    { cidr: '::1', value: 'lo6' },
    { cidr: '0.0.0.0/0', value: 'any4' },
  ]);

  it('matches at the edges of a CIDR and prefers the longest prefix', () => {
    expect(m.match('10.0.0.0')).toBe('ten');
    expect(m.match('10.255.255.255')).toBe('ten');
    expect(m.match('10.1.2.0')).toBe('ten-one-two');
    expect(m.match('10.1.2.255')).toBe('ten-one-two');
    expect(m.match('10.1.3.0')).toBe('ten');
    expect(m.match('192.0.2.7')).toBe('host');
    expect(m.match('192.0.2.8')).toBe('any4');
  });

  it('matches IPv6 and IPv4-mapped IPv6 against the IPv4 rules', () => {
    expect(m.match('2001:db8:abcd::1')).toBe('v6');
    expect(m.match('2001:db8:abcd:ffff:ffff:ffff:ffff:ffff')).toBe('v6');
    expect(m.match('2001:db8:abce::')).toBeUndefined();
    expect(m.match('::1')).toBe('lo6');
    expect(m.match('::2')).toBeUndefined();
    expect(m.match('::ffff:10.1.2.3')).toBe('ten-one-two');
    expect(m.match('::FFFF:c000:0207')).toBe('host');
  });

  it('returns undefined for garbage and answers the same from its cache', () => {
    expect(m.match('not-an-ip')).toBeUndefined();
    expect(m.match('')).toBeUndefined();
    for (let i = 0; i < 3; i++) expect(m.match('10.1.2.3')).toBe('ten-one-two');
  });

  it('stays correct when the cache overflows', () => {
    const small = compileIpMatcher([{ cidr: '172.16.0.0/12', value: 1 }], { cacheSize: 4 });
    for (let i = 0; i < 50; i++) {
      expect(small.match(`172.16.0.${i}`)).toBe(1);
      expect(small.match(`172.32.0.${i}`)).toBeUndefined();
    }
  });

  it('keeps configuration order among equal prefixes', () => {
    const eq = compileIpMatcher([{ cidr: '10.0.0.0/8', value: 'first' }, { cidr: '10.0.0.0/8', value: 'second' }]);
    expect(eq.match('10.9.9.9')).toBe('first');
  });

  it('throws on a bad rule', () => {
    expect(() => compileIpMatcher([{ cidr: '10.0.0.0/40', value: 1 }])).toThrow(/10\.0\.0\.0\/40/);
  });
});

describe('createTrunkAcl', () => {
  it('falls back to the loopback trunk when none is configured', () => {
    const acl = createTrunkAcl([]);
    expect(acl.usingLoopbackDefault).toBe(true);
    expect(acl.trunks).toEqual([LOOPBACK_TRUNK]);
    expect(acl.lookup('127.0.0.1')?.name).toBe('loopback');
    expect(acl.lookup('127.255.255.254')?.name).toBe('loopback');
    expect(acl.lookup('::1')?.name).toBe('loopback');
    expect(acl.lookup('::ffff:127.0.0.1')?.name).toBe('loopback');
    expect(acl.lookup('128.0.0.1')).toBeUndefined();
    expect(LOOPBACK_TRUNK).toMatchObject({ defaultCountry: 'US', rejectCode: 486, cliSources: ['pai', 'rpid', 'from'] });
  });

  it('maps addresses to configured trunks', () => {
    const a = trunk('carrier-a', ['198.51.100.0/24', '2001:db8::/32']);
    const b = trunk('carrier-b', ['203.0.113.10']);
    const acl = createTrunkAcl([a, b]);
    expect(acl.usingLoopbackDefault).toBe(false);
    expect(acl.lookup('198.51.100.200')).toBe(a);
    expect(acl.lookup('2001:db8:1::5')).toBe(a);
    expect(acl.lookup('::ffff:203.0.113.10')).toBe(b);
    expect(acl.lookup('203.0.113.11')).toBeUndefined();
    expect(acl.lookup('127.0.0.1')).toBeUndefined();
  });

  it('names the bad source in a CONFIG_INVALID error', () => {
    try {
      createTrunkAcl([trunk('ok', ['10.0.0.1']), trunk('bad', ['10.0.0.0/8', 'example.com'])]);
      expect.unreachable();
    } catch (err) {
      expect(isRingproofError(err) && err.code).toBe('RP_CONFIG_INVALID');
      expect((err as Error).message).toContain('trunks[1].sources[1]');
    }
  });
});
