import { describe, expect, it } from 'vitest';
import { fillRport } from '../../src/sip/wire/top-via.js';
import { hasTag } from '../../src/sip/wire/has-tag.js';
import { hasServedScheme, parseMessage } from '../../src/sip/wire/index.js';
import { DelayQueue } from '../../src/sip/transactions/delay-queue.js';

/** Deterministic pseudo-random strings from a list of parts. */
function* mutations(parts: readonly string[], count: number, maxParts: number): Generator<string> {
  let seed = 12345;
  const next = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  for (let t = 0; t < count; t++) {
    let s = '';
    const k = next(maxParts + 1);
    for (let i = 0; i < k; i++) s += parts[next(parts.length)];
    yield s;
  }
}

describe('the by-index replacements of per-message regular expressions', () => {
  it('fillRport writes exactly what the rport replace did', () => {
    const parts = [';', 'rport', 'RPort', ' ', '\t', '=', '5', 'x', ';rport=1', 'branch=z9hG4bK1', ';rport;', '\xa0', 'rpor', 'rportx'];
    for (const tail of mutations(parts, 20_000, 6)) {
      const via = `SIP/2.0/UDP h${tail}`;
      expect(fillRport(via, 5060), JSON.stringify(via)).toBe(via.replace(/;\s*rport(?=\s*(?:;|$))/i, ';rport=5060'));
    }
  });

  it('hasTag answers as the tag pattern after the last ">" did', () => {
    const re = /;\s*tag\s*=/i;
    const reference = (v: string): boolean => re.test(v.lastIndexOf('>') === -1 ? v : v.slice(v.lastIndexOf('>')));
    const parts = [';', 'tag', 'TAG', 'Tag', ' ', '\t', '=', 'x', '>', '<sip:a@b>', ';tag=1', 'ta', 'tagx', '\xa0', '"', ','];
    for (const v of mutations(parts, 20_000, 7)) expect(hasTag(v), JSON.stringify(v)).toBe(reference(v));
  });

  it('hasServedScheme is /^(sips?|tel):/i', () => {
    const parts = ['sip', 'SIP', 'sips', 'SiPs', 'tel', 'TEL', ':', 's', 'x', 'te', '+1', 'sipx'];
    for (const v of mutations(parts, 5_000, 3)) expect(hasServedScheme(v), JSON.stringify(v)).toBe(/^(sips?|tel):/i.test(v));
  });
});

describe('SipMessage rare headers', () => {
  const request = (extra: string): string =>
    'INVITE sip:+15550100001@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-1\r\n' +
    'From: <sip:+15550100002@127.0.0.1>;tag=a\r\nTo: <sip:+15550100001@127.0.0.1>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n' +
    `${extra}Content-Length: 0\r\n\r\n`;

  it('finds present ones (any spelling) and answers absent ones without a search', () => {
    const { msg } = parseMessage(request('P-ASSERTED-IDENTITY: <tel:+15550100003>\r\nprivacy: id\r\nRequire: 100rel\r\n'));
    expect(msg.header('p-asserted-identity')).toBe('<tel:+15550100003>');
    expect(msg.headerValues('privacy')).toEqual(['id']);
    expect(msg.header('require')).toBe('100rel');
    expect(msg.header('remote-party-id')).toBeUndefined();
    expect(msg.headerValues('identity')).toEqual([]);
    expect(msg.header('from')).toBe('<sip:+15550100002@127.0.0.1>;tag=a');
    const plain = parseMessage(request('')).msg;
    for (const name of ['require', 'privacy', 'p-asserted-identity', 'remote-party-id', 'identity']) {
      expect(plain.header(name)).toBeUndefined();
      expect(plain.headerValues(name)).toEqual([]);
    }
  });
});

describe('DelayQueue', () => {
  it('keeps every entry pushed onto the queue it is expiring (timer G at T2), behind thousands of cancelled ones', () => {
    // The overload case: nearly every entry cancelled (ACKed), the rest re-queued in the same queue
    // as they fire. A push that compacted the arrays under expire() lost them for good.
    const q = new DelayQueue<number>(100);
    const tickets: number[] = [];
    for (let i = 0; i < 20_000; i++) tickets.push(q.push(i, 0));
    for (let i = 0; i < 20_000; i++) if (i % 10 !== 0) q.cancel(tickets[i] as number);
    expect(q.size).toBe(2000);
    const fired: number[] = [];
    let again = 0;
    q.expire(100, (x) => {
      fired.push(x);
      if (x % 20 === 0) { q.push(x, 100); again++; }
    });
    expect(fired).toHaveLength(2000);
    expect(q.size).toBe(again);
    const late: number[] = [];
    q.expire(200, (x) => late.push(x));
    expect(late).toHaveLength(again);
    expect(q.size).toBe(0);
  });

  it('compacts at expiry, and tickets stay valid', () => {
    const q = new DelayQueue<number>(100);
    let last = -1;
    for (let i = 0; i < 20_000; i++) {
      const t = q.push(i, 0);
      if (last !== -1) q.cancel(last);
      last = t;
    }
    expect(q.size).toBe(1);
    const fired: number[] = [];
    q.expire(100, (x) => fired.push(x));
    expect(fired).toEqual([19_999]);
    const a = q.push(1, 0);
    const b = q.push(2, 0);
    q.cancel(a);
    q.expire(1000, (x) => fired.push(x));
    expect(fired).toEqual([19_999, 2]);
    q.cancel(b); // already fired: nothing
    expect(q.size).toBe(0);
  });
});
