import { describe, expect, it } from 'vitest';
import { classifyAddress } from '../../src/egress/index.js';
import { HttpsX5uFetcher } from '../../src/trust/https-x5u-fetcher.js';
import { parseIdentityValue, splitIdentityValues } from '../../src/trust/identity-header.js';
import { MemoryReplayStore } from '../../src/trust/replay-store.js';
import { canonicalTn } from '../../src/trust/telephone-number.js';
import { tnAuthorized } from '../../src/trust/tn-auth-list.js';
import { checkX5u, x5uLocalPath } from '../../src/trust/x5u-url.js';

describe('x5u guards', () => {
  it('accepts only absolute https URLs without credentials, query or fragment', () => {
    expect(checkX5u('https://cr.example.net/sti/sp.pem')).toMatchObject({ ok: true });
    for (const bad of ['http://cr.example.net/a.pem', 'file:///etc/passwd', 'https://u@cr.example.net/a', 'https://cr.example.net/a?x=1',
      'https://cr.example.net/a?', 'https://cr.example.net/a#f', '/relative.pem', `https://cr.example.net/${'a'.repeat(2100)}`]) {
      expect(checkX5u(bad).ok, bad).toBe(false);
    }
  });

  it('maps an x5u to a provisioned path that cannot climb out', () => {
    expect(x5uLocalPath(new URL('https://cr.example.net:8443/sti/sp.pem'))).toEqual(['cr.example.net:8443', 'sti', 'sp.pem']);
    expect(x5uLocalPath(new URL('https://cr.example.net/'))).toBeUndefined();
    // The URL parser resolves dot segments (even encoded ones) inside the URL, so they cannot climb out.
    expect(x5uLocalPath(new URL('https://cr.example.net/a/%2e%2e/../../b'))).toEqual(['cr.example.net', 'b']);
    expect(x5uLocalPath(new URL('https://cr.example.net/a%2fb'))).toBeUndefined();
  });

  it('refuses loopback, private, link-local, CGNAT, ULA, NAT64 and mapped forms (the egress rules); garbage is not public', async () => {
    const nonPublic = ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::',
      'fd00::1', 'fe80::1%eth0', '64:ff9b::a9fe:a9fe', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '198.51.100.7'];
    for (const a of [...nonPublic, 'localhost', '']) expect(classifyAddress(a), a).not.toBe('public');
    for (const a of ['8.8.8.8', '2001:4860:4860::8888']) expect(classifyAddress(a), a).toBe('public');
    // The fetcher refuses a literal non-public x5u before any connection.
    const fetcher = new HttpsX5uFetcher({ allowPrivateAddresses: false });
    for (const a of nonPublic.filter((x) => !x.includes('%'))) {
      const host = a.includes(':') ? `[${a}]` : a;
      await expect(fetcher.fetch(new URL(`https://${host}/sp.pem`), { timeoutMs: 1000, maxBytes: 10_000 }), a).rejects.toMatchObject({ kind: 'refused' });
    }
  });
});

describe('Identity header syntax', () => {
  it('splits several values at commas outside <...> and reads the parameters', () => {
    const raw = 'a.b.c;info=<https://x.example/a,b.pem>;alg=ES256;ppt="shaken", d.e.f;info=<https://y.example/c.pem>';
    expect(splitIdentityValues(raw)).toHaveLength(2);
    expect(parseIdentityValue(splitIdentityValues(raw)[0]!)).toEqual({
      ok: true, value: { token: 'a.b.c', info: 'https://x.example/a,b.pem', alg: 'ES256', ppt: 'shaken' },
    });
  });

  it('canonical TNs drop "+" and visual separators only', () => {
    expect(canonicalTn('+1 (555) 123-4567')).toBe('15551234567');
    expect(canonicalTn('1555123456a')).toBeUndefined();
    expect(canonicalTn('1'.repeat(21))).toBeUndefined();
  });

  it('TNAuthList: an SPC covers any number, a TN list its numbers and ranges of the same length', () => {
    expect(tnAuthorized({ spcs: ['1234'], tns: [], ranges: [] }, '15551234567')).toBe(true);
    const list = { spcs: [], tns: ['15550000001'], ranges: [{ start: '15559990000', count: 100 }] };
    expect(tnAuthorized(list, '15550000001')).toBe(true);
    expect(tnAuthorized(list, '15559990099')).toBe(true);
    expect(tnAuthorized(list, '15559990100')).toBe(false);
    expect(tnAuthorized(list, '155599900')).toBe(false);
  });
});

describe('MemoryReplayStore', () => {
  it('holds a key for its TTL, then forgets it; evicts the oldest when full and counts it', async () => {
    let now = 1000;
    const store = new MemoryReplayStore(2, () => now);
    expect(await store.claim('k1', 'call-a', 100)).toBe('call-a');
    expect(await store.claim('k1', 'call-b', 100)).toBe('call-a');
    now += 101;
    expect(await store.claim('k1', 'call-b', 100)).toBe('call-b');
    await store.claim('k2', 'call-c', 100);
    await store.claim('k3', 'call-d', 100);
    expect(store.size).toBe(2);
    expect(store.evicted).toBe(1);
    expect(await store.claim('k1', 'call-e', 100)).toBe('call-e');
  });
});
