import { describe, expect, it } from 'vitest';
import { parseNameAddr } from '../../src/sip/wire/name-addr.js';

describe('parseNameAddr', () => {
  it('parses a quoted display name, sip URI and header params', () => {
    const na = parseNameAddr('"Name" <sip:+1555@host;user=phone>;tag=x');
    expect(na).toBeDefined();
    expect(na!.displayName).toBe('Name');
    expect(na!.uri.user).toBe('+1555');
    expect(na!.uri.params.get('user')).toBe('phone');
    expect(na!.params.get('tag')).toBe('x');
    expect(na!.uri.params.has('tag')).toBe(false);
  });

  it('parses tel URIs in angle brackets', () => {
    const na = parseNameAddr('<tel:+1-202-555-0123;phone-context=example.com>');
    expect(na!.displayName).toBeUndefined();
    expect(na!.uri.scheme).toBe('tel');
    expect(na!.uri.user).toBe('+1-202-555-0123');
  });

  it('treats ";" after a bare addr-spec as header parameters (RFC 3261 §20.10)', () => {
    const na = parseNameAddr('sip:user@host;tag=abc');
    expect(na!.uri.user).toBe('user');
    expect(na!.uri.params.size).toBe(0);
    expect(na!.params.get('tag')).toBe('abc');
    // user-part parameters before "@" stay in the URI
    const np = parseNameAddr('sip:+12025550123;verstat=TN-Validation-Passed@h.example;tag=1');
    expect(np!.uri.userParams.get('verstat')).toBe('TN-Validation-Passed');
    expect(np!.params.get('tag')).toBe('1');
    const tel = parseNameAddr('tel:+12025550123;tag=9');
    expect(tel!.uri.user).toBe('+12025550123');
    expect(tel!.params.get('tag')).toBe('9');
  });

  it('parses token display names and anonymous forms', () => {
    expect(parseNameAddr('caller<sip:caller@example.com>;tag=323')!.displayName).toBe('caller'); // RFC 4475 lwsdisp
    const anon = parseNameAddr('Anonymous <sip:anonymous@anonymous.invalid>;tag=1');
    expect(anon!.displayName).toBe('Anonymous');
    expect(anon!.uri.user).toBe('anonymous');
    expect(anon!.uri.host).toBe('anonymous.invalid');
  });

  it('unescapes quoted-pairs in display names (RFC 4475 wsinv)', () => {
    const na = parseNameAddr('"J Rosenberg \\\\\\""       <sip:jdrosen@example.com>');
    expect(na!.displayName).toBe('J Rosenberg \\"');
    const q = parseNameAddr('"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =');
    expect(q!.displayName).toBe('Quoted string ""');
    expect(q!.params.get('newparam')).toBe('');
  });

  it('reads Remote-Party-ID parameters', () => {
    const na = parseNameAddr('"John" <sip:+12025550123@gw.example;user=phone>;party=calling;screen=no;privacy=full');
    expect(na!.params.get('party')).toBe('calling');
    expect(na!.params.get('screen')).toBe('no');
    expect(na!.params.get('privacy')).toBe('full');
  });

  it('keeps "<" inside a quoted display name out of the URI search', () => {
    const na = parseNameAddr('"a <b> c" <sip:x@y.example>');
    expect(na!.displayName).toBe('a <b> c');
    expect(na!.uri.user).toBe('x');
  });

  it.each([
    '', '   ', '"unterminated <sip:a@b>', '<sip:a@b', '"x" y <sip:a@b>', '<http://www.example.com>;tag=3234233',
    '<name:John_Smith>', 'isbn:2983792873', '*', '<>', '<sip:a@b> junk', 'sip:a b@c', '"\\', '<sip:@host>',
  ])('returns undefined for %j', (text) => {
    expect(parseNameAddr(text)).toBeUndefined();
  });

  it('never throws on random input', () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const alphabet = '"<>\\;=,@:sipte+0123456789 %\x00\xe9';
    for (let i = 0; i < 3000; i++) {
      let s = '';
      const n = Math.floor(rnd() * 40);
      for (let j = 0; j < n; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      expect(() => parseNameAddr(s)).not.toThrow();
    }
  });
});
