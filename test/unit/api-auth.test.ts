import { describe, expect, it } from 'vitest';
import { ApiAuthenticator, LOOPBACK_PRINCIPAL } from '../../src/api/api-authenticator.js';
import { hashApiKey } from '../../src/config/hash-api-key.js';
import { isLoopbackAddress } from '../../src/api/loopback-address.js';

describe('isLoopbackAddress', () => {
  it.each(['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1', '0000::0001', '::1%lo'])('%s is loopback', (ip) => {
    expect(isLoopbackAddress(ip)).toBe(true);
  });
  it.each(['10.0.0.1', '203.0.113.5', '128.0.0.1', '::', '::2', '::ffff:10.0.0.1', '2001:db8::1', 'localhost', '', undefined, '1::1'])('%s is not loopback', (ip) => {
    expect(isLoopbackAddress(ip)).toBe(false);
  });
});

describe('ApiAuthenticator', () => {
  const token = 'rp_live_abcdefghijklmnopqrstuvwxyz012345';
  const auth = new ApiAuthenticator([
    { name: 'first', hash: hashApiKey('something-else') },
    { name: 'shop', hash: hashApiKey(token) },
  ]);

  it('open mode: loopback clients pass as the loopback principal, others get 403', () => {
    const open = new ApiAuthenticator([]);
    expect(open.open).toBe(true);
    expect(open.authenticate({ authorization: undefined, ip: '127.0.0.1' })).toEqual({ ok: true, principal: { name: LOOPBACK_PRINCIPAL, admin: true } });
    expect(open.authenticate({ authorization: undefined, ip: '::1' }).ok).toBe(true);
    const remote = open.authenticate({ authorization: `Bearer ${token}`, ip: '203.0.113.5' });
    expect(remote).toMatchObject({ ok: false, status: 403, code: 'RP_API_FORBIDDEN' });
    expect(open.authenticate({ authorization: undefined, ip: '::ffff:192.168.1.4' })).toMatchObject({ ok: false, status: 403 });
  });

  it('open mode: both request.ip and the TCP peer must be loopback (forged X-Forwarded-For, remote client via local proxy)', () => {
    const open = new ApiAuthenticator([]);
    expect(open.authenticate({ authorization: undefined, ip: '127.0.0.1', peer: '::ffff:127.0.0.1' }).ok).toBe(true);
    expect(open.authenticate({ authorization: undefined, ip: '127.0.0.1', peer: '198.51.100.7' })).toMatchObject({ ok: false, status: 403 });
    expect(open.authenticate({ authorization: undefined, ip: '198.51.100.7', peer: '127.0.0.1' })).toMatchObject({ ok: false, status: 403 });
    expect(open.authenticate({ authorization: undefined, ip: '127.0.0.1', peer: undefined })).toMatchObject({ ok: false, status: 403 });
  });

  it('keys mode: a valid token names its key, whatever the client address', () => {
    expect(auth.open).toBe(false);
    expect(auth.authenticate({ authorization: `Bearer ${token}`, ip: '203.0.113.5' })).toEqual({ ok: true, principal: { name: 'shop', admin: false } });
  });

  it('keys mode: a key with admin: true is an admin, the others are app keys', () => {
    const withAdmin = new ApiAuthenticator([{ name: 'ops', hash: hashApiKey('ops-token-0123456789'), admin: true }, { name: 'shop', hash: hashApiKey(token) }]);
    expect(withAdmin.authenticate({ authorization: 'Bearer ops-token-0123456789', ip: '203.0.113.5' })).toEqual({ ok: true, principal: { name: 'ops', admin: true } });
    expect(withAdmin.authenticate({ authorization: `Bearer ${token}`, ip: '127.0.0.1' })).toEqual({ ok: true, principal: { name: 'shop', admin: false } });
  });

  it('keys mode: loopback clients still need a key', () => {
    expect(auth.authenticate({ authorization: undefined, ip: '127.0.0.1' })).toMatchObject({
      ok: false, status: 401, code: 'RP_API_UNAUTHORIZED', wwwAuthenticate: 'Bearer realm="ringproof"',
    });
  });

  it.each([
    ['Basic abc', 'malformed'],
    ['Bearer', 'malformed'],
    ['Bearer two tokens', 'malformed'],
    [`Bearer ${'a'.repeat(2000)}`, 'malformed'],
    [`Bearer ${token}x`, 'unknown'],
  ])('rejects %j as %s with 401', (authorization, kind) => {
    const d = auth.authenticate({ authorization, ip: '127.0.0.1' });
    expect(d.ok).toBe(false);
    if (d.ok) return;
    expect(d.status).toBe(401);
    expect(d.message).toMatch(kind === 'unknown' ? /^unknown API key$/ : /^malformed Authorization header/);
    expect(d.wwwAuthenticate).toMatch(/^Bearer /);
  });

  it('refuses a key hash that is not sha256:<64 hex> with RP_CONFIG_INVALID naming the key', () => {
    expect(() => new ApiAuthenticator([{ name: 'x', hash: 'md5:abc' }])).toThrow(/api\.keys\[0\]\.hash/);
    expect(() => new ApiAuthenticator([{ name: 'x', hash: 'sha256:zz' }])).toThrowError(expect.objectContaining({ code: 'RP_CONFIG_INVALID' }));
  });

  it('hashApiKey produces the config form', () => {
    expect(hashApiKey('abc')).toBe('sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
