import { describe, expect, it } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { fastAckKey } from '../../src/sip/wire/ack-fast-path.js';
import { keepStringPrototypeFast } from '../../src/v8/fast-string-prototype.js';
import { parseMessage } from '../../src/sip/wire/parse-message.js';
import { parsePlainTopVia, parseTopVia, parseTopViaGeneral } from '../../src/sip/wire/top-via.js';
import { parseParams, unescapeUriPart } from '../../src/sip/wire/sip-uri.js';
import { transactionKey } from '../../src/sip/transactions/transaction-key.js';

/**
 * The second round of hot-path shortcuts. Each answers only for inputs it is sure about and must then
 * agree exactly with the general code; these tests compare the two on hand-picked and mutated input.
 */

const ACK = [
  'ACK sip:+15550100001@127.0.0.1:5060;user=phone SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:25191;branch=z9hG4bK-7-1-0;rport',
  'Max-Forwards: 70',
  'From: <sip:+447700900001@127.0.0.1:25191;user=phone>;tag=7SIPpTag001',
  'To: <sip:+15550100001@127.0.0.1:5060;user=phone>;tag=0123456789abcdef',
  'Call-ID: 1-7@127.0.0.1',
  'CSeq: 1 ACK',
  'Content-Length: 0',
].join('\r\n') + '\r\n\r\n';

/** What the full path would use as the ACK's transaction key, or undefined when it would not match one. */
function fullPathKey(text: string): string | undefined {
  const { msg, problem } = parseMessage(text);
  if (problem !== undefined || !msg.isRequest || msg.method !== 'ACK') return undefined;
  const top = parseTopVia(msg.via[0] as string);
  return top === undefined ? undefined : transactionKey(top, msg);
}

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NASTY = [' ', '\t', '\r', '\n', ':', ';', ',', '"', '=', '[', ']', '\\', '0', '9', 'A', 'z', '\u00a0', '-', '/', '<'];

function mutate(text: string, random: () => number): string {
  let out = text;
  const edits = 1 + Math.floor(random() * 3);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(random() * out.length);
    const ch = NASTY[Math.floor(random() * NASTY.length)] as string;
    const op = random();
    if (op < 0.4) out = out.slice(0, at) + ch + out.slice(at);
    else if (op < 0.7) out = out.slice(0, at) + out.slice(at + 1);
    else out = out.slice(0, at) + ch + out.slice(at + 1);
  }
  return out;
}

describe('fastAckKey', () => {
  it('reads the same transaction key as the full parse for a plain ACK', () => {
    expect(fastAckKey(ACK)).toBe('z9hG4bK-7-1-0|127.0.0.1:25191');
    expect(fastAckKey(ACK)).toBe(fullPathKey(ACK));
  });

  it('agrees with the full parse on variants it accepts, and leaves the rest to it', () => {
    const variants = [
      ACK.replace('Via: ', 'v: ').replace('Call-ID:', 'i:').replace('From:', 'f:').replace('To:', 't:'),
      ACK.replace('CSeq: 1 ACK', 'CSeq: 1 INVITE'),
      ACK.replace('CSeq: 1 ACK', 'CSeq:   4294967295\tACK'),
      ACK.replace(';rport', ';BRANCH=z9hG4bKlast;rport'),
      ACK.replace('127.0.0.1:25191;', 'proxy.example.com;'),
      ACK.replace(':25191;', ':05191;'),
      ACK.replace('Max-Forwards: 70', 'Max-Forwards: 0'),
      ACK.replace('Max-Forwards: 70', 'X-Custom-Header : anything: at all'),
      ACK.replace('Content-Length: 0\r\n\r\n', 'Content-Length: 3\r\n\r\nabc'),
      ACK.replace('Via: SIP/2.0/UDP 127.0.0.1:25191;branch=z9hG4bK-7-1-0;rport', 'Via: SIP/2.0/UDP 127.0.0.1:25191;branch=z9hG4bK-7-1-0;rport\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKsecond'),
    ];
    for (const v of variants) {
      const fast = fastAckKey(v);
      expect(fast, JSON.stringify(v)).toBeDefined();
      expect(fast, JSON.stringify(v)).toBe(fullPathKey(v));
    }
  });

  it('declines what it does not read itself: the full path decides those', () => {
    const declined = [
      '\r\n' + ACK, // leading blank line
      ACK.replace(/\r\n/g, '\n'), // bare LF line ends
      ACK.replace('SIP/2.0\r\n', 'sip/2.0\r\n'), // version in another case
      ACK.replace('Max-Forwards: 70', 'Max-Forwards: 256'),
      ACK.replace('Max-Forwards: 70', 'Max-Forwards: 7 0'),
      ACK.replace('Content-Length: 0', 'Content-Length: 0\r\nl: 0'),
      ACK.replace('Call-ID: 1-7@127.0.0.1', 'Call-ID: 1-7@127.0.0.1\r\nCall-ID: again'),
      ACK.replace('Call-ID: 1-7@127.0.0.1', 'Call-ID: '),
      ACK.replace('CSeq: 1 ACK', 'CSeq: 1 BYE'),
      ACK.replace('CSeq: 1 ACK', 'CSeq: 4294967296 ACK'),
      ACK.replace('From: <', 'From: "unclosed <'),
      ACK.replace('Max-Forwards: 70', 'Max-Forwards: 70\r\n folded'),
      ACK.replace('Max-Forwards: 70', 'Bad Name: x'),
      ACK.replace('Via: SIP/2.0/UDP 127.0.0.1:25191;', 'Via: SIP/2.0/UDP [::1]:25191;'),
      ACK.replace('Via: SIP/2.0/UDP 127.0.0.1:25191;', 'Via: SIP/2.0/UDP 127.0.0.1 : 25191;'),
      ACK.replace('branch=z9hG4bK-7-1-0', 'branch=old-style-branch'),
      ACK.replace('branch=z9hG4bK-7-1-0', 'branch=z9hG4bK'),
      ACK.replace(';rport', ';rport, SIP/2.0/UDP 10.0.0.1'),
      ACK.replace('Via: SIP/2.0/UDP 127.0.0.1:25191;branch=z9hG4bK-7-1-0;rport', 'Via: SIP/2.0/UDP 127.0.0.1:65536;branch=z9hG4bK-7-1-0'),
      ACK.replace('Max-Forwards: 70', 'Max-Forwards: 70\rX'),
      ACK.replace('\r\n\r\n', '\r\n'), // no blank line
      ACK.replace('ACK sip:', 'INVITE sip:'),
    ];
    for (const v of declined) expect(fastAckKey(v), JSON.stringify(v)).toBeUndefined();
  });

  it('never answers differently from the full parse on thousands of mutated ACKs', () => {
    const random = rng(20261122);
    let answered = 0;
    for (let n = 0; n < 20000; n++) {
      const m = mutate(ACK, random);
      const fast = fastAckKey(m);
      if (fast === undefined) continue;
      answered++;
      expect(fast, JSON.stringify(m)).toBe(fullPathKey(m));
    }
    // The mutations must leave plenty of plain ACKs, or this proves nothing.
    expect(answered).toBeGreaterThan(2000);
  });
});

describe('parsePlainTopVia', () => {
  const plain = [
    'SIP/2.0/UDP 127.0.0.1:25191;branch=z9hG4bK-1;rport',
    'SIP/2.0/TCP host.example.com;branch=z9hG4bKa;received=10.0.0.1',
    'SIP/2.0/udp   h;BRANCH=z9hG4bKUP;RPort;rport=5',
    'SIP/2.0/UDP h:5060',
    'SIP/2.0/UDP h:05060;;branch=a=b',
    'SIP/2.0/UDP h;branch',
    'SIP/2.0/UDP h;branch=;x;',
    'SIP/2.0/TLS h:65535;branch=first;branch=second',
  ];

  it('reads the common forms exactly as the regular expression does', () => {
    for (const line of plain) {
      const fast = parsePlainTopVia(line);
      expect(fast, line).toBeDefined();
      expect(fast, line).toEqual(parseTopViaGeneral(line));
    }
  });

  it('leaves IPv6, whitespace, lists, quotes and bad ports to the regular expression', () => {
    for (const line of [
      'SIP/2.0/UDP [::1]:5060;branch=z9hG4bKv6',
      'SIP /2.0/UDP h',
      'SIP/2.0/UDP h ;branch=z9hG4bKx',
      'SIP/2.0/UDP h; branch=z9hG4bKx',
      'SIP/2.0/UDP h;branch=z9hG4bKq, SIP/2.0/UDP h2',
      'SIP/2.0/UDP h;x="a;b"',
      'SIP/2.0/UDP h:0',
      'SIP/2.0/UDP h:65536',
      'SIP/2.0/UDP h:123456',
      'SIP/2.0/UDP',
      ' SIP/2.0/UDP h',
    ]) {
      expect(parsePlainTopVia(line), line).toBeUndefined();
    }
  });

  it('never differs from the regular expression on mutated Via values', () => {
    const random = rng(4475);
    let answered = 0;
    for (let n = 0; n < 20000; n++) {
      const line = mutate(plain[n % plain.length] as string, random);
      const fast = parsePlainTopVia(line);
      if (fast === undefined) continue;
      answered++;
      expect(fast, JSON.stringify(line)).toEqual(parseTopViaGeneral(line));
    }
    expect(answered).toBeGreaterThan(2000);
  });
});

describe('keepStringPrototypeFast', () => {
  it('puts String.prototype back into fast mode after a String subclass made it a dictionary', () => {
    setFlagsFromString('--allow-natives-syntax');
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const isFast = new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean;
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const makeSlow = new Function('o', '%OptimizeObjectForAddingMultipleProperties(o, 1)') as (o: object) => void;
    setFlagsFromString('--no-allow-natives-syntax');
    makeSlow(String.prototype);
    expect(isFast(String.prototype)).toBe(false);
    keepStringPrototypeFast();
    expect(isFast(String.prototype)).toBe(true);
    expect('abc'.charCodeAt(1)).toBe(98);
  });
});

describe('parseParams by index', () => {
  /** The split/trim version it replaced: the specification it must keep. */
  function reference(text: string): Map<string, string> {
    const map = new Map<string, string>();
    for (const raw of text.split(';')) {
      const part = raw.trim();
      if (part === '') continue;
      const eq = part.indexOf('=');
      const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
      if (name === '') continue;
      let value = eq < 0 ? '' : part.slice(eq + 1).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      if (!map.has(name)) map.set(name, unescapeUriPart(value));
    }
    return map;
  }

  it('gives the same map as split/trim did, on hand-picked and mutated parameter lists', () => {
    const samples = [
      '', ';', ';;', 'user=phone', ';user=phone;tag=abc', ' ; Tag = x ; TAG=y ', 'lr', ';a="quoted;b"', 'a=""', 'a="',
      'verstat=TN-Validation-Passed;npdi;rn=%2B1555', '\u00a0a\u00a0=\u00a0b\u00a0', '=v;a=1', 'a==b', 'ÀB=1',
    ];
    for (const s of samples) expect(parseParams(s), JSON.stringify(s)).toEqual(reference(s));
    const random = rng(3966);
    for (let n = 0; n < 20000; n++) {
      const s = mutate(samples[n % samples.length] as string || ';x=1', random);
      expect(parseParams(s), JSON.stringify(s)).toEqual(reference(s));
    }
  });
});
