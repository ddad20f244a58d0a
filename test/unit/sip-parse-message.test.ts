import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/sip/wire/parse-message.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'rfc4475');
/** A fixture as the engine sees it: latin1 text of the raw bytes. */
const fixture = (name: string): string => readFileSync(join(FIXTURES, name)).toString('latin1');

/** Joins header lines with CRLF and ends the header block. */
function msg(lines: string[], body = '', eol = '\r\n'): string {
  return lines.join(eol) + eol + eol + body;
}

const OPTIONS_LINES = [
  'OPTIONS sip:+15550100001@127.0.0.1 SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.2.1:5060;branch=z9hG4bKunit1',
  'Max-Forwards: 70',
  'From: <sip:alice@example.com>;tag=a1',
  'To: <sip:+15550100001@example.com>',
  'Call-ID: unit-1@example.com',
  'CSeq: 1 OPTIONS',
  'Content-Length: 0',
];

const with_ = (replace: Record<string, string | null>, base = OPTIONS_LINES): string[] => {
  const out: string[] = [];
  for (const line of base) {
    const name = line.slice(0, line.indexOf(':'));
    if (name in replace) {
      const v = replace[name];
      if (v !== null && v !== undefined) out.push(v);
    } else out.push(line);
  }
  return out;
};

describe('parseMessage: well-formed requests', () => {
  it('lifts the request line and the fields the UAS needs', () => {
    const r = parseMessage(msg(OPTIONS_LINES));
    expect(r.problem).toBeUndefined();
    const m = r.msg;
    expect(m.isRequest).toBe(true);
    expect(m.method).toBe('OPTIONS');
    expect(m.requestUri).toBe('sip:+15550100001@127.0.0.1');
    expect(m.via).toEqual(['SIP/2.0/UDP 127.0.2.1:5060;branch=z9hG4bKunit1']);
    expect(m.callId).toBe('unit-1@example.com');
    expect(m.cseqNum).toBe(1);
    expect(m.cseqMethod).toBe('OPTIONS');
    expect(m.maxForwards).toBe(70);
    expect(m.contentLength).toBe(0);
  });

  it('expands compact header forms (RFC 3261 §7.3.3) and matches names case-insensitively', () => {
    const text = msg([
      'INVITE sip:+15550100001@127.0.0.1 SIP/2.0',
      'v: SIP/2.0/UDP 127.0.2.1;branch=z9hG4bKc1',
      'V: SIP/2.0/TCP 127.0.2.2;branch=z9hG4bKc2',
      'f: <sip:alice@example.com>;tag=1',
      't: <sip:bob@example.com>',
      'i: compact@example.com',
      'cSeQ: 7 INVITE',
      'm: <sip:alice@127.0.2.1>',
      'c: application/sdp',
      'l: 4',
    ], 'v=0\r');
    const r = parseMessage(text);
    expect(r.problem).toBeUndefined();
    expect(r.msg.via).toHaveLength(2);
    expect(r.msg.from).toBe('<sip:alice@example.com>;tag=1');
    expect(r.msg.to).toBe('<sip:bob@example.com>');
    expect(r.msg.callId).toBe('compact@example.com');
    expect(r.msg.header('contact')).toBe('<sip:alice@127.0.2.1>');
    expect(r.msg.header('content-type')).toBe('application/sdp');
    expect(r.msg.contentLength).toBe(4);
    expect(text.slice(r.msg.bodyStart)).toBe('v=0\r');
  });

  it('folds continuation lines (SP or HTAB) into the previous header value', () => {
    const r = parseMessage(msg([
      ...OPTIONS_LINES.slice(0, -1),
      'Subject: first',
      '  second',
      '\tthird',
      'Content-Length: 0',
    ]));
    expect(r.problem).toBeUndefined();
    expect(r.msg.header('subject')).toBe('first second third');
    expect(r.msg.contentLength).toBe(0);
  });

  it('accepts LF-only line ends and finds the body after the bare-LF empty line', () => {
    const text = msg(with_({ 'Content-Length': 'Content-Length: 5' }), 'hello', '\n');
    const r = parseMessage(text);
    expect(r.problem).toBeUndefined();
    expect(r.msg.callId).toBe('unit-1@example.com');
    expect(text.slice(r.msg.bodyStart)).toBe('hello');
  });

  it('accepts whitespace between a header name and its colon', () => {
    const r = parseMessage(msg(with_({ 'Call-ID': 'Call-ID  \t: ws-colon@example.com', Via: 'Via : SIP/2.0/UDP 127.0.2.1;branch=z9hG4bKws' })));
    expect(r.problem).toBeUndefined();
    expect(r.msg.callId).toBe('ws-colon@example.com');
    expect(r.msg.via[0]).toBe('SIP/2.0/UDP 127.0.2.1;branch=z9hG4bKws');
  });

  it('reads Max-Forwards "0068" as 68 (leading zeros are digits, RFC 4475 wsinv)', () => {
    const r = parseMessage(msg(with_({ 'Max-Forwards': 'MaX-fOrWaRdS: 0068' })));
    expect(r.problem).toBeUndefined();
    expect(r.msg.maxForwards).toBe(68);
  });

  it('ignores leading CRLFs before the request line (RFC 3261 §7.5)', () => {
    const r = parseMessage(`\r\n\r\n${msg(OPTIONS_LINES)}`);
    expect(r.problem).toBeUndefined();
    expect(r.msg.method).toBe('OPTIONS');
  });

  it('accepts an ACK whose CSeq method is INVITE', () => {
    const r = parseMessage(msg(with_({ CSeq: 'CSeq: 1 INVITE' }, [
      'ACK sip:+15550100001@127.0.0.1 SIP/2.0', ...OPTIONS_LINES.slice(1),
    ])));
    expect(r.problem).toBeUndefined();
    expect(r.msg.method).toBe('ACK');
  });

  it('parses RFC 4475 wsinv (the short tortuous INVITE) without a problem', () => {
    const r = parseMessage(fixture('wsinv.dat'));
    expect(r.problem).toBeUndefined();
    expect(r.msg.method).toBe('INVITE');
    expect(r.msg.maxForwards).toBe(68);
    expect(r.msg.cseqNum).toBe(9);
    expect(r.msg.cseqMethod).toBe('INVITE');
    expect(r.msg.contentLength).toBe(150);
    expect(r.msg.via).toHaveLength(2);
    expect(r.msg.via[0]).toMatch(/^SIP\s+\/\s+2\.0 \/UDP 127\.0\.2\.2;branch=390skdjuw$/);
    expect(r.msg.header('newfangledheader')).toBe('newfangled value continued newfangled value');
    expect(r.msg.header('subject')).toBe('');
  });

  it('parses the other RFC 4475 valid requests without a problem', () => {
    for (const name of ['intmeth.dat', 'esc01.dat', 'escnull.dat', 'esc02.dat', 'lwsdisp.dat', 'longreq.dat',
      'semiuri.dat', 'transports.dat', 'mpart01.dat', 'zeromf.dat', 'cparam01.dat', 'regescrt.dat']) {
      const r = parseMessage(fixture(name));
      expect(r.problem, `${name}: ${r.detail}`).toBeUndefined();
      expect(r.msg.isRequest, name).toBe(true);
    }
    const longreq = parseMessage(fixture('longreq.dat')).msg;
    expect(longreq.via).toHaveLength(34);
    expect(longreq.via[0]).toBe('SIP/2.0/TCP sip33.example.com');
  });

  it('keeps NUL and 8-bit octets in values without failing (intmeth, escnull)', () => {
    const r = parseMessage(fixture('intmeth.dat'));
    expect(r.problem).toBeUndefined();
    expect(r.msg.method).toBe("!interesting-Method0123456789_*+`.%indeed'~");
    expect(r.msg.to).toContain('\u0000');
    expect(r.msg.header("extensionheader-!.%*+_`'~")).toBe('\u00ef\u00bb\u00bf\u00e5\u00a4\u00a7\u00e5\u0081\u009c\u00e9\u009b\u00bb');
  });
});

describe('parseMessage: defects', () => {
  it('flags several Content-Length headers as bad_request, even when they agree', () => {
    expect(parseMessage(fixture('mcl01.dat')).problem).toBe('bad_request');
    const r = parseMessage(msg([...OPTIONS_LINES, 'l: 0']));
    expect(r.problem).toBe('bad_request');
  });

  it('flags a negative or non-numeric Content-Length as bad_request (RFC 4475 ncl)', () => {
    expect(parseMessage(msg(with_({ 'Content-Length': 'Content-Length: -999' }))).problem).toBe('bad_request');
    expect(parseMessage(msg(with_({ 'Content-Length': 'Content-Length: five' }))).problem).toBe('bad_request');
    expect(parseMessage(fixture('ncl.dat')).problem).toBe('bad_request');
  });

  it('flags a Max-Forwards above 255 or not a number as bad_request', () => {
    expect(parseMessage(msg(with_({ 'Max-Forwards': 'Max-Forwards: 256' }))).problem).toBe('bad_request');
    expect(parseMessage(msg(with_({ 'Max-Forwards': 'Max-Forwards: -1' }))).problem).toBe('bad_request');
    expect(parseMessage(msg(with_({ 'Max-Forwards': 'Max-Forwards: 255' }))).problem).toBeUndefined();
  });

  it('flags a CSeq method that differs from the request method (RFC 4475 mismatch01)', () => {
    const r = parseMessage(msg(with_({ CSeq: 'CSeq: 1 INVITE' })));
    expect(r.problem).toBe('bad_request');
    expect(r.detail).toMatch(/CSeq/);
    expect(parseMessage(fixture('mismatch01.dat')).problem).toBe('bad_request');
  });

  it('flags a CSeq number above 2**32-1 or a CSeq without method (RFC 4475 scalar02)', () => {
    expect(parseMessage(msg(with_({ CSeq: 'CSeq: 4294967296 OPTIONS' }))).problem).toBe('bad_request');
    expect(parseMessage(msg(with_({ CSeq: 'CSeq: 4294967295 OPTIONS' }))).problem).toBeUndefined();
    expect(parseMessage(msg(with_({ CSeq: 'CSeq: 12' }))).problem).toBe('bad_request');
    expect(parseMessage(fixture('scalar02.dat')).problem).toBe('bad_request');
  });

  it('flags missing From, To, Call-ID or CSeq as bad_request (RFC 4475 insuf)', () => {
    for (const h of ['From', 'To', 'Call-ID', 'CSeq']) {
      const r = parseMessage(msg(with_({ [h]: null })));
      expect(r.problem, h).toBe('bad_request');
    }
    expect(parseMessage(fixture('insuf.dat')).problem).toBe('bad_request');
  });

  it('cannot use a request without a Via at all: unparseable (no path to answer along)', () => {
    expect(parseMessage(msg(with_({ Via: null }))).problem).toBe('unparseable');
    expect(parseMessage(fixture('test.dat')).problem).toBe('unparseable');
  });

  it('flags duplicated single-value headers (RFC 4475 multi01)', () => {
    expect(parseMessage(msg([...OPTIONS_LINES.slice(0, -1), 'Call-ID: other@example.com', 'Content-Length: 0'])).problem).toBe('bad_request');
    expect(parseMessage(fixture('multi01.dat')).problem).toBe('bad_request');
  });

  it('flags a header line without a colon or with a non-token name', () => {
    expect(parseMessage(msg([...OPTIONS_LINES, 'Foobar roobar'])).problem).toBe('bad_request');
    expect(parseMessage(msg([...OPTIONS_LINES, 'Bad Name: x'])).problem).toBe('bad_request');
    expect(parseMessage(msg([...OPTIONS_LINES, ': no name'])).problem).toBe('bad_request');
  });

  it('refuses a bare CR inside a header value (RFC 3261 §25.1: CR only as part of CRLF, not even quoted)', () => {
    // Echoed into a response, even a 400, such a value would become an extra header line at the
    // next hop: the message is dropped (and counted) rather than answered.
    const r = parseMessage(msg(with_({ From: 'From: "Calle\rX-Injected: 1" <sip:alice@example.com>;tag=a1' })));
    expect(r.problem).toBe('unparseable');
    const c = parseMessage(msg(with_({ 'Call-ID': 'Call-ID: abc\rdef@example.com' })));
    expect(c.problem).toBe('unparseable');
  });

  it('flags a request line with two spaces between elements (RFC 4475 lwsstart)', () => {
    const r = parseMessage(msg(['OPTIONS  sip:+15550100001@127.0.0.1 SIP/2.0', ...OPTIONS_LINES.slice(1)]));
    expect(r.problem).toBe('bad_request');
    expect(r.msg.method).toBe('OPTIONS');
    expect(parseMessage(fixture('lwsstart.dat')).problem).toBe('bad_request');
  });

  it('flags trailing spaces after the version and LWS inside the Request-URI (trws, lwsruri)', () => {
    expect(parseMessage(fixture('trws.dat')).problem).toBe('bad_request');
    expect(parseMessage(fixture('lwsruri.dat')).problem).toBe('bad_request');
  });

  it('reports version for SIP/7.0 (RFC 4475 badvers, answered 505)', () => {
    const r = parseMessage(msg(['OPTIONS sip:+15550100001@127.0.0.1 SIP/7.0', ...OPTIONS_LINES.slice(1)]));
    expect(r.problem).toBe('version');
    expect(parseMessage(fixture('badvers.dat')).problem).toBe('version');
  });

  it('takes the SIP version case-insensitively (RFC 3261 §7.1: "sip/2.0" is SIP/2.0)', () => {
    const r = parseMessage(msg(['OPTIONS sip:+15550100001@127.0.0.1 sip/2.0', ...OPTIONS_LINES.slice(1)]));
    expect(r.problem).toBeUndefined();
  });

  it('cannot use a request line without a version, or a method that is not a token', () => {
    expect(parseMessage(msg(['OPTIONS sip:+15550100001@127.0.0.1', ...OPTIONS_LINES.slice(1)])).problem).toBe('unparseable');
    expect(parseMessage(msg(['OPT(IONS sip:x SIP/2.0', ...OPTIONS_LINES.slice(1)])).problem).toBe('unparseable');
    expect(parseMessage(msg(['OPT\u0000IONS sip:x SIP/2.0', ...OPTIONS_LINES.slice(1)])).problem).toBe('unparseable');
  });

  it('cannot use text without any line end, or empty text', () => {
    expect(parseMessage('OPTIONS sip:x SIP/2.0').problem).toBe('unparseable');
    expect(parseMessage('').problem).toBe('unparseable');
    expect(parseMessage('\r\n\r\n').problem).toBe('unparseable');
  });
});

describe('parseMessage: responses', () => {
  it('detects a response by its status line and reads the code', () => {
    const r = parseMessage(fixture('noreason.dat'));
    expect(r.msg.isRequest).toBe(false);
    expect(r.msg.status).toBe(100);
    const u = parseMessage(fixture('unreason.dat'));
    expect(u.msg.isRequest).toBe(false);
    expect(u.msg.status).toBe(200);
    expect(parseMessage(fixture('scalarlg.dat')).msg.isRequest).toBe(false);
    expect(parseMessage(fixture('bcast.dat')).msg.isRequest).toBe(false);
  });

  it('does not read a Status-Code longer than 3 digits as a valid code (RFC 4475 bigcode)', () => {
    // Status-Code is exactly 3DIGIT (RFC 3261 §25.1); "4294967301" is no status 429.
    const r = parseMessage(fixture('bigcode.dat'));
    expect(r.msg.isRequest).toBe(false);
    const valid = r.problem === undefined && r.msg.status === 429;
    expect(valid, `status ${r.msg.status}, problem ${String(r.problem)}`).toBe(false);
  });
});

describe('parseMessage: robustness', () => {
  it('never throws on truncations of every RFC 4475 message', () => {
    for (const name of ['wsinv.dat', 'intmeth.dat', 'longreq.dat', 'mpart01.dat', 'badinv01.dat', 'escnull.dat']) {
      const text = fixture(name);
      for (let cut = 0; cut <= text.length; cut++) {
        const r = parseMessage(text.slice(0, cut));
        expect(['bad_request', 'version', 'unparseable', undefined]).toContain(r.problem);
      }
    }
  });
});
