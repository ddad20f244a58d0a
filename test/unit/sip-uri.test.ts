import { describe, expect, it } from 'vitest';
import { parseUri, stripVisualSeparators, unescapeUriPart, uriPhoneNumber } from '../../src/sip/wire/sip-uri.js';

describe('parseUri', () => {
  it('parses a sip URI with user=phone and port', () => {
    const u = parseUri('sip:+12025550123@Carrier.Example.com:5080;user=phone;transport=udp');
    expect(u).toBeDefined();
    expect(u!.scheme).toBe('sip');
    expect(u!.user).toBe('+12025550123');
    expect(u!.host).toBe('carrier.example.com');
    expect(u!.port).toBe(5080);
    expect(u!.params.get('user')).toBe('phone');
    expect(u!.params.get('transport')).toBe('udp');
  });

  it('parses sips:, scheme case-insensitively, and IPv6 hosts', () => {
    const u = parseUri('SIPS:alice@[2001:db8::1]:5061');
    expect(u!.scheme).toBe('sips');
    expect(u!.host).toBe('[2001:db8::1]');
    expect(u!.port).toBe(5061);
    expect(parseUri('sip:[::1]')!.host).toBe('[::1]');
  });

  it('decodes escaped user parts (%2B, RFC 4475 esc01)', () => {
    expect(parseUri('sip:%2B4930123456@example.com')!.user).toBe('+4930123456');
    expect(parseUri('sip:sips%3Auser%40example.com@example.net')!.user).toBe('sips:user@example.com');
    expect(parseUri('sip:%75se%72@example.com')!.user).toBe('user');
  });

  it('separates user-part parameters (npdi, rn, verstat) from URI parameters', () => {
    const u = parseUri('sip:+12025550123;npdi;rn=+15550000000;verstat=TN-Validation-Passed@host.example;user=phone');
    expect(u!.user).toBe('+12025550123');
    expect(u!.userParams.get('npdi')).toBe('');
    expect(u!.userParams.get('rn')).toBe('+15550000000');
    expect(u!.userParams.get('verstat')).toBe('TN-Validation-Passed');
    expect(u!.params.get('user')).toBe('phone');
    // RFC 4475 semiuri: escaped "@" inside a user parameter
    const s = parseUri('sip:user;par=u%40example.net@example.com');
    expect(s!.user).toBe('user');
    expect(s!.userParams.get('par')).toBe('u@example.net');
  });

  it('ignores URI headers and passwords', () => {
    const u = parseUri('sip:user:secret@example.com?Route=%3Csip:example.com%3E');
    expect(u!.user).toBe('user');
    expect(u!.host).toBe('example.com');
  });

  it('parses hostless-user sip URIs (Request-URI "sip:trunk.example")', () => {
    const u = parseUri('sip:trunk.example');
    expect(u!.user).toBeUndefined();
    expect(u!.host).toBe('trunk.example');
  });

  it('parses tel: URIs with visual separators and parameters', () => {
    const u = parseUri('tel:+1-202-555-0123;phone-context=example.com;verstat=No-TN-Validation');
    expect(u!.scheme).toBe('tel');
    expect(u!.user).toBe('+1-202-555-0123');
    expect(u!.host).toBeUndefined();
    expect(u!.params.get('phone-context')).toBe('example.com');
    expect(u!.params.get('verstat')).toBe('No-TN-Validation');
    expect(parseUri('tel:(202)%20555-0123')).toBeUndefined(); // %20 is a space: not a tel number
    expect(parseUri('tel:7042;phone-context=+1555')!.user).toBe('7042');
  });

  it.each([
    '', ' ', 'sip:', 'tel:', 'sip:@host', 'sip:user@', 'sip:user@host:99999', 'sip:user@host:abc',
    'sip:user@ho st', 'http://example.com', 'mailto:a@b', 'soap.beep://127.0.2.103:3002', 'isbn:2983792873',
    'sip:user@[::1', 'tel:abc+', 'tel:+', 'sip:us<er@host', '<sip:user@host>', 'sip', ':', 'x'.repeat(5000),
    'sip:a@b'.repeat(1000),
  ])('returns undefined for garbage %j', (text) => {
    expect(parseUri(text)).toBeUndefined();
  });

  it('never throws on arbitrary bytes', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const alphabet = 'sip:tel+@;=<>"%0123456789abcdef[]:.-() \\\x00\xff';
    for (let i = 0; i < 3000; i++) {
      let s = rnd() < 0.5 ? 'sip:' : 'tel:';
      const n = Math.floor(rnd() * 30);
      for (let j = 0; j < n; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      expect(() => parseUri(s)).not.toThrow();
    }
  });
});

describe('uriPhoneNumber', () => {
  it('returns the number with separators removed', () => {
    expect(uriPhoneNumber(parseUri('tel:+1-202-555-0123')!)).toBe('+12025550123');
    expect(uriPhoneNumber(parseUri('tel:+44.20.(1234).5678')!)).toBe('+442012345678');
    expect(uriPhoneNumber(parseUri('sip:0201234567@gw.example')!)).toBe('0201234567');
  });

  it('applies a global phone-context to a local number', () => {
    expect(uriPhoneNumber(parseUri('tel:5550123;phone-context=+1-202')!)).toBe('+12025550123');
    expect(uriPhoneNumber(parseUri('sip:5550123;phone-context=+1202@gw.example;user=phone')!)).toBe('+12025550123');
    // A domain-name context is not a prefix.
    expect(uriPhoneNumber(parseUri('tel:1234567;phone-context=example.com')!)).toBe('1234567');
  });

  it('is undefined for non-numbers', () => {
    expect(uriPhoneNumber(parseUri('sip:alice@example.com')!)).toBeUndefined();
    expect(uriPhoneNumber(parseUri('sip:anonymous@anonymous.invalid')!)).toBeUndefined();
    expect(uriPhoneNumber(parseUri('tel:*21#;phone-context=example.com')!)).toBeUndefined();
    expect(uriPhoneNumber(parseUri('sip:example.com')!)).toBeUndefined();
  });
});

describe('helpers', () => {
  it('unescapes and keeps malformed escapes', () => {
    expect(unescapeUriPart('%2B1%2')).toBe('+1%2');
    expect(unescapeUriPart('%zz')).toBe('%zz');
  });
  it('strips visual separators', () => {
    expect(stripVisualSeparators('(202) 555-0123')).toBe('2025550123');
  });
});

describe('parseUri host and port checks (read by index) agree with the regular expressions they replace', () => {
  const HOST_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?\.?)+$|^\[[0-9A-Fa-f:.]+\]$/;
  const PORT_RE = /^\d{1,5}$/;
  // A small PRNG, so a failure reproduces.
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const ALPHABET = 'aZ09-_..[]:fF\u00e9x';

  it('accepts exactly the hosts HOST_RE accepts, over 20,000 random hosts', () => {
    for (let k = 0; k < 20_000; k++) {
      let host = '';
      const len = 1 + rnd(8);
      for (let i = 0; i < len; i++) host += ALPHABET[rnd(ALPHABET.length)];
      if (host.includes(':') && !host.startsWith('[')) continue; // a colon there is the port separator
      if (host.startsWith('[') && host.indexOf(']') !== host.length - 1) continue;
      const parsed = parseUri(`sip:u@${host}`);
      expect(parsed !== undefined, JSON.stringify(host)).toBe(HOST_RE.test(host));
      if (parsed) expect(parsed.host).toBe(host.toLowerCase());
    }
  });

  it('accepts exactly the ports PORT_RE accepts up to 65535', () => {
    for (const port of ['', '0', '5060', '65535', '65536', '99999', '123456', '5o60', ' 5060', '-1', '00001']) {
      const ok = PORT_RE.test(port) && Number(port) <= 65535;
      const parsed = parseUri(`sip:u@example.com:${port};user=phone`);
      expect(parsed !== undefined, port).toBe(ok);
      if (parsed) expect(parsed.port).toBe(Number(port));
      expect(parseUri(`sip:u@[::1]:${port}`) !== undefined, `[::1]:${port}`).toBe(ok);
    }
  });
});
