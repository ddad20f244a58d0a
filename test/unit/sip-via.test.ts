import { describe, expect, it } from 'vitest';
import { parseTopVia, rewriteTopVia } from '../../src/sip/wire/top-via.js';

describe('parseTopVia', () => {
  it('reads transport, host, port, branch and rport of the first element', () => {
    const v = parseTopVia('SIP/2.0/UDP 127.0.2.1:5070;branch=z9hG4bKabc;rport');
    expect(v).toEqual({
      raw: 'SIP/2.0/UDP 127.0.2.1:5070;branch=z9hG4bKabc;rport',
      rest: '',
      transport: 'UDP',
      host: '127.0.2.1',
      port: 5070,
      branch: 'z9hG4bKabc',
      hasRport: true,
      wellFormed: true,
    });
  });

  it('marks empty parameters and empty list items as not well formed (RFC 4475 badinv01)', () => {
    expect(parseTopVia('SIP/2.0/UDP 127.0.2.15;;,;,,')?.wellFormed).toBe(false);
    expect(parseTopVia('SIP/2.0/UDP 127.0.2.15;branch=z9hG4bKx;')?.wellFormed).toBe(false);
    expect(parseTopVia('SIP/2.0/UDP 127.0.2.15;branch=z9hG4bKx, SIP/2.0/UDP b.example.com')?.wellFormed).toBe(true);
  });

  it('leaves the port undefined when the Via names none', () => {
    const v = parseTopVia('SIP/2.0/TCP host.example.com;branch=z9hG4bK1');
    expect(v?.port).toBeUndefined();
    expect(v?.host).toBe('host.example.com');
    expect(v?.transport).toBe('TCP');
    expect(v?.hasRport).toBe(false);
  });

  it('takes only the first of several comma-separated Via values and keeps the rest', () => {
    const v = parseTopVia('SIP/2.0/UDP 127.0.2.1;branch=z9hG4bKa, SIP/2.0/TCP 127.0.2.2;branch=z9hG4bKb');
    expect(v?.raw).toBe('SIP/2.0/UDP 127.0.2.1;branch=z9hG4bKa');
    expect(v?.rest).toBe(', SIP/2.0/TCP 127.0.2.2;branch=z9hG4bKb');
    expect(v?.branch).toBe('z9hG4bKa');
  });

  it('does not split at a comma inside a quoted parameter value', () => {
    const v = parseTopVia('SIP/2.0/UDP 127.0.2.1;x="a,b";branch=z9hG4bKq, SIP/2.0/UDP 127.0.2.2');
    expect(v?.raw).toBe('SIP/2.0/UDP 127.0.2.1;x="a,b";branch=z9hG4bKq');
    expect(v?.branch).toBe('z9hG4bKq');
  });

  it('accepts LWS around the slashes, the colon and the equals sign (RFC 4475 wsinv)', () => {
    const v = parseTopVia('SIP  /   2.0 /UDP 127.0.2.2;branch=390skdjuw');
    expect(v?.host).toBe('127.0.2.2');
    expect(v?.branch).toBe('390skdjuw');
    const w = parseTopVia('SIP  / 2.0  / TCP     spindle.example.com   ; branch  =   z9hG4bK9ikj8  , SIP / 2.0 / UDP 127.0.2.1');
    expect(w?.transport).toBe('TCP');
    expect(w?.host).toBe('spindle.example.com');
    expect(w?.branch).toBe('z9hG4bK9ikj8');
    expect(parseTopVia('SIP/2.0/UDP 127.0.2.1 : 5062;branch=z9hG4bKp')?.port).toBe(5062);
  });

  it('accepts unknown transports and upper-cases the transport (RFC 4475 transports)', () => {
    expect(parseTopVia('SIP/2.0/unknown t4.example.com;branch=z9hG4bKasd0f3en')?.transport).toBe('UNKNOWN');
    expect(parseTopVia('SIP/2.0/sctp t2.example.com')?.transport).toBe('SCTP');
  });

  it('reads IPv6 references with and without a port', () => {
    const a = parseTopVia('SIP/2.0/UDP [2001:db8::9:1]:5060;branch=z9hG4bKv6;rport');
    expect(a?.host).toBe('[2001:db8::9:1]');
    expect(a?.port).toBe(5060);
    expect(a?.hasRport).toBe(true);
    const b = parseTopVia('SIP/2.0/TCP [::1];branch=z9hG4bKv6b');
    expect(b?.host).toBe('[::1]');
    expect(b?.port).toBeUndefined();
    const c = parseTopVia('SIP/2.0/UDP [::ffff:127.0.0.1]:5062');
    expect(c?.host).toBe('[::ffff:127.0.0.1]');
    expect(c?.port).toBe(5062);
  });

  it('reads branch and rport parameter names case-insensitively', () => {
    const v = parseTopVia('SIP/2.0/UDP 127.0.2.1;BRANCH=z9hG4bKUP;RPort');
    expect(v?.branch).toBe('z9hG4bKUP');
    expect(v?.hasRport).toBe(true);
  });

  it('rejects a Via that is not SIP/2.0, has no host, or has an impossible port', () => {
    expect(parseTopVia('SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw')).toBeUndefined();
    expect(parseTopVia('SIP/2.0/UDP')).toBeUndefined();
    expect(parseTopVia('SIP/2.0 127.0.0.1')).toBeUndefined();
    expect(parseTopVia('')).toBeUndefined();
    expect(parseTopVia('SIP/2.0/UDP 127.0.2.1:0')).toBeUndefined();
    expect(parseTopVia('SIP/2.0/UDP 127.0.2.1:65536')).toBeUndefined();
    expect(parseTopVia('SIP/2.0/UDP 127.0.2.1:123456')).toBeUndefined();
    expect(parseTopVia('SIP/2.0/UDP 127.0.2.1:65535')?.port).toBe(65535);
  });
});

describe('rewriteTopVia', () => {
  const top = (s: string) => {
    const v = parseTopVia(s);
    if (!v) throw new Error(`test Via did not parse: ${s}`);
    return v;
  };

  it('fills rport with the source port and adds received (RFC 3581 §4)', () => {
    const out = rewriteTopVia(top('SIP/2.0/UDP 127.0.2.1:5060;rport;branch=z9hG4bKr'), '127.0.0.1', 40123);
    expect(out).toBe('SIP/2.0/UDP 127.0.2.1:5060;rport=40123;branch=z9hG4bKr;received=127.0.0.1');
  });

  it('adds received even when the host matches, once rport is asked for', () => {
    const out = rewriteTopVia(top('SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKs;rport'), '127.0.0.1', 5071);
    expect(out).toBe('SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKs;rport=5071;received=127.0.0.1');
  });

  it('adds received when the sent-by host is a name or another address (RFC 3261 §18.2.1)', () => {
    expect(rewriteTopVia(top('SIP/2.0/UDP host.example.com;branch=z9hG4bKn'), '127.0.0.1', 5060))
      .toBe('SIP/2.0/UDP host.example.com;branch=z9hG4bKn;received=127.0.0.1');
    expect(rewriteTopVia(top('SIP/2.0/UDP 127.0.2.9:5060;branch=z9hG4bKn'), '127.0.0.1', 5060))
      .toBe('SIP/2.0/UDP 127.0.2.9:5060;branch=z9hG4bKn;received=127.0.0.1');
  });

  it('leaves the Via alone when the sender is where it says and asked for no rport', () => {
    expect(rewriteTopVia(top('SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKq'), '127.0.0.1', 5060))
      .toBe('SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKq');
  });

  it('compares an IPv6 reference without its brackets and writes received without brackets', () => {
    expect(rewriteTopVia(top('SIP/2.0/UDP [::1]:5060;branch=z9hG4bK6'), '::1', 5060)).toBe('SIP/2.0/UDP [::1]:5060;branch=z9hG4bK6');
    expect(rewriteTopVia(top('SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK6;rport'), '::1', 41000))
      .toBe('SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK6;rport=41000;received=::1');
  });

  it('does not touch an rport that already carries a value, but still adds received', () => {
    expect(rewriteTopVia(top('SIP/2.0/UDP 127.0.2.1;rport=1234;branch=z9hG4bKv'), '127.0.0.1', 5555))
      .toBe('SIP/2.0/UDP 127.0.2.1;rport=1234;branch=z9hG4bKv;received=127.0.0.1');
  });

  it('does not take a parameter that merely starts with "rport" for rport', () => {
    const v = top('SIP/2.0/UDP 127.0.0.1:5060;rportx;branch=z9hG4bKw');
    expect(v.hasRport).toBe(false);
    expect(rewriteTopVia(v, '127.0.0.1', 5060)).toBe('SIP/2.0/UDP 127.0.0.1:5060;rportx;branch=z9hG4bKw');
  });

  it('appends the other values of the same header line unchanged', () => {
    const v = top('SIP/2.0/UDP a.example.com;branch=z9hG4bK1,SIP/2.0/UDP b.example.com;branch=z9hG4bK2');
    expect(rewriteTopVia(v, '127.0.0.1', 5060))
      .toBe('SIP/2.0/UDP a.example.com;branch=z9hG4bK1;received=127.0.0.1,SIP/2.0/UDP b.example.com;branch=z9hG4bK2');
  });
});
