import { describe, expect, it } from 'vitest';
import { StreamFramer, type FrameResult } from '../../src/sip/transports/stream-framer.js';

const MAX = 8192;

function request(callId: string, body = '', eol = '\r\n', clName = 'Content-Length'): string {
  return [
    'INVITE sip:+15550100001@127.0.0.1 SIP/2.0',
    'Via: SIP/2.0/TCP 127.0.2.1;branch=z9hG4bK' + callId,
    'From: <sip:alice@example.com>;tag=1',
    'To: <sip:+15550100001@example.com>',
    `Call-ID: ${callId}`,
    'CSeq: 1 INVITE',
    'Max-Forwards: 70',
    `${clName}: ${Buffer.byteLength(body, 'latin1')}`,
  ].join(eol) + eol + eol + body;
}

const messages = (frames: FrameResult[]): string[] =>
  frames.filter((f): f is { kind: 'message'; data: Buffer } => f.kind === 'message').map((f) => f.data.toString('latin1'));
const kinds = (frames: FrameResult[]): string[] => frames.map((f) => f.kind);

describe('StreamFramer', () => {
  it('returns one message per complete message, body included', () => {
    const f = new StreamFramer(MAX);
    const m = request('one', 'v=0\r\n');
    const out = f.push(Buffer.from(m, 'latin1'));
    expect(messages(out)).toEqual([m]);
    expect(f.pending).toBe(0);
  });

  it('cuts two messages that arrive in one chunk', () => {
    const f = new StreamFramer(MAX);
    const a = request('a', 'abc');
    const b = request('b');
    const out = f.push(Buffer.from(a + b, 'latin1'));
    expect(messages(out)).toEqual([a, b]);
    expect(f.pending).toBe(0);
  });

  it('reassembles a message fed one byte at a time, and emits it exactly once at the last byte', () => {
    const f = new StreamFramer(MAX);
    const m = request('bytewise', 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n');
    const bytes = Buffer.from(m, 'latin1');
    const seen: string[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const out = f.push(bytes.subarray(i, i + 1));
      if (i < bytes.length - 1) expect(out, `byte ${i}`).toEqual([]);
      seen.push(...messages(out));
    }
    expect(seen).toEqual([m]);
    expect(f.pending).toBe(0);
  });

  it('waits for a body split across reads', () => {
    const f = new StreamFramer(MAX);
    const body = 'x'.repeat(300);
    const m = request('split-body', body);
    const cut = m.length - 120;
    expect(f.push(Buffer.from(m.slice(0, cut), 'latin1'))).toEqual([]);
    expect(f.pending).toBe(cut);
    const out = f.push(Buffer.from(m.slice(cut), 'latin1'));
    expect(messages(out)).toEqual([m]);
  });

  it('keeps the start of the next message when a read ends inside it', () => {
    const f = new StreamFramer(MAX);
    const a = request('first', 'hello');
    const b = request('second', 'world');
    const joined = a + b;
    const cut = a.length + 17;
    expect(messages(f.push(Buffer.from(joined.slice(0, cut), 'latin1')))).toEqual([a]);
    expect(messages(f.push(Buffer.from(joined.slice(cut), 'latin1')))).toEqual([b]);
  });

  it('frames LF-only messages and the compact "l:" Content-Length', () => {
    const f = new StreamFramer(MAX);
    const a = request('lf', 'body!', '\n');
    const b = request('compact', '12345', '\r\n', 'l');
    expect(messages(f.push(Buffer.from(a + b, 'latin1')))).toEqual([a, b]);
  });

  it('takes a message without Content-Length as having no body (RFC 3261 §18.3)', () => {
    const f = new StreamFramer(MAX);
    const head = request('nocl').replace(/Content-Length: 0\r\n/, '');
    const next = request('after');
    expect(messages(f.push(Buffer.from(head + next, 'latin1')))).toEqual([head, next]);
  });

  it('answers a CRLFCRLF keep-alive with one ping and no message (RFC 5626 §3.5.1)', () => {
    const f = new StreamFramer(MAX);
    const out = f.push(Buffer.from('\r\n\r\n'));
    expect(kinds(out)).toEqual(['ping']);
    expect(f.pending).toBe(0);
  });

  it('skips a ping in front of a message and still frames the message', () => {
    const f = new StreamFramer(MAX);
    const m = request('after-ping');
    const out = f.push(Buffer.from(`\r\n\r\n${m}`, 'latin1'));
    expect(kinds(out)).toEqual(['ping', 'message']);
    expect(messages(out)).toEqual([m]);
  });

  it('ignores a lone CRLF (a pong or padding) between messages', () => {
    const f = new StreamFramer(MAX);
    const a = request('a');
    const b = request('b');
    const out = f.push(Buffer.from(`${a}\r\n${b}`, 'latin1'));
    expect(kinds(out)).toEqual(['message', 'message']);
  });

  it('answers a keep-alive ping that arrives split across two reads', () => {
    // TCP may cut CRLFCRLF anywhere; the peer still expects its pong.
    const f = new StreamFramer(MAX);
    const first = f.push(Buffer.from('\r\n'));
    const second = f.push(Buffer.from('\r\n'));
    expect([...kinds(first), ...kinds(second)]).toEqual(['ping']);
  });

  it('reports oversize for a header block that never ends within the limit', () => {
    const f = new StreamFramer(1024);
    const start = 'INVITE sip:x@127.0.0.1 SIP/2.0\r\nX-Pad: ';
    expect(f.push(Buffer.from(start))).toEqual([]);
    const out = f.push(Buffer.from('a'.repeat(1100)));
    expect(kinds(out)).toEqual(['oversize']);
    expect(f.pending).toBe(0);
  });

  it('reports oversize as soon as a header block announces a body past the limit', () => {
    const f = new StreamFramer(1024);
    const head = request('big').replace('Content-Length: 0', 'Content-Length: 5000');
    const out = f.push(Buffer.from(head, 'latin1'));
    expect(kinds(out)).toEqual(['oversize']);
  });

  it('passes a message of exactly the limit and refuses one byte more', () => {
    const base = request('edge', '');
    const bodyLen = 1024 - base.length - 2; // the CL digits grow from "0" to three digits
    const exact = request('edge', 'b'.repeat(bodyLen));
    expect(exact.length).toBe(1024);
    expect(messages(new StreamFramer(1024).push(Buffer.from(exact, 'latin1')))).toEqual([exact]);
    const over = request('edge', 'b'.repeat(bodyLen + 1));
    expect(kinds(new StreamFramer(1024).push(Buffer.from(over, 'latin1')))).toEqual(['oversize']);
  });

  it('frames messages carrying NUL and 8-bit octets in the body by byte count', () => {
    const f = new StreamFramer(MAX);
    const body = Buffer.from([0, 0xff, 0xfe, 0x0d, 0x0a, 0x0d, 0x0a, 0xc3, 0x28, 0]);
    const head = Buffer.from(request('binary').replace('Content-Length: 0', `Content-Length: ${body.length}`), 'latin1');
    const next = Buffer.from(request('next'), 'latin1');
    const out = f.push(Buffer.concat([head, body, next]));
    expect(out).toHaveLength(2);
    expect((out[0] as { data: Buffer }).data.equals(Buffer.concat([head, body]))).toBe(true);
    expect((out[1] as { data: Buffer }).data.equals(next)).toBe(true);
  });
});
