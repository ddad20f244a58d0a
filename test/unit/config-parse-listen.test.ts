import { describe, expect, it } from 'vitest';
import { parseCidr } from '../../src/config/parse-cidr.js';
import { formatHostPort, parseHostPort, parseListenSpec } from '../../src/config/parse-listen.js';

describe('parseListenSpec', () => {
  it.each([
    ['udp:0.0.0.0:5060', { transport: 'udp', host: '0.0.0.0', port: 5060, family: 4 }],
    ['tcp:127.0.0.1:5080', { transport: 'tcp', host: '127.0.0.1', port: 5080, family: 4 }],
    ['tcp:[::1]:5060', { transport: 'tcp', host: '::1', port: 5060, family: 6 }],
    ['udp:[::]:5060', { transport: 'udp', host: '::', port: 5060, family: 6 }],
    ['UDP:[2001:db8::1]:65535', { transport: 'udp', host: '2001:db8::1', port: 65535, family: 6 }],
  ])('parses %s', (text, expected) => {
    const r = parseListenSpec(text);
    expect(r).toEqual({ ok: true, value: { ...expected, text } });
  });

  it.each([
    ['udp:1.2.3:5060', 'is not an IP address'],
    ['udp:example.com:5060', 'is not an IP address'],
    ['sctp:0.0.0.0:5060', 'must look like udp:0.0.0.0:5060'],
    ['0.0.0.0:5060', 'must look like udp:0.0.0.0:5060'],
    ['udp:::1:5060', 'IPv6 addresses must be in brackets'],
    ['udp:[127.0.0.1]:5060', 'only IPv6 addresses go in brackets'],
    ['udp:[::1]5060', 'IPv6 addresses are written like [::1]:5060'],
    ['udp:0.0.0.0:0', 'port must be from 1 to 65535'],
    ['udp:0.0.0.0:65536', 'port must be from 1 to 65535'],
    ['udp:0.0.0.0:50x', 'port must be from 1 to 65535'],
    ['udp:0.0.0.0', '"udp:0.0.0.0" has no port'],
  ])('refuses %s', (text, reason) => {
    const r = parseListenSpec(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });
});

describe('parseHostPort', () => {
  it.each([
    ['127.0.0.1:8080', { host: '127.0.0.1', port: 8080 }],
    ['[::1]:8080', { host: '::1', port: 8080 }],
    ['localhost:9000', { host: 'localhost', port: 9000 }],
    ['0.0.0.0:80', { host: '0.0.0.0', port: 80 }],
  ])('parses %s and formats it back', (text, expected) => {
    const r = parseHostPort(text);
    expect(r).toEqual({ ok: true, value: expected });
    if (r.ok) expect(formatHostPort(r.value)).toBe(text);
  });

  it.each(['8080', '::1:8080', 'bad_host!:80', '[localhost]:80', '127.0.0.1:99999'])('refuses %s', (text) => {
    expect(parseHostPort(text).ok).toBe(false);
  });
});

describe('parseCidr', () => {
  it.each([
    ['127.0.0.0/8', { address: '127.0.0.0', prefix: 8, family: 4 }],
    ['203.0.113.7', { address: '203.0.113.7', prefix: 32, family: 4 }],
    ['2001:db8::/32', { address: '2001:db8::', prefix: 32, family: 6 }],
    ['::1', { address: '::1', prefix: 128, family: 6 }],
    ['0.0.0.0/0', { address: '0.0.0.0', prefix: 0, family: 4 }],
  ])('parses %s', (text, expected) => {
    expect(parseCidr(text)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['10.0.0.0/33', 'prefix length must be from 0 to 32'],
    ['2001:db8::/129', 'prefix length must be from 0 to 128'],
    ['10.0.0.0/', 'prefix length'],
    ['10.0.0/8', 'is not an IP address or CIDR'],
    ['carrier.example', 'is not an IP address or CIDR'],
  ])('refuses %s', (text, reason) => {
    const r = parseCidr(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });
});
