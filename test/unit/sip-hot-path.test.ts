import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/metrics.js';
import { CountBatch } from '../../src/metrics/count-batch.js';
import { detachString } from '../../src/v8/detach-string.js';
import { canonicalHeaderName, knownHeaderNameAt } from '../../src/sip/wire/header-names.js';
import { parseMessage } from '../../src/sip/wire/parse-message.js';
import { SipCounters } from '../../src/metrics/sip-counters.js';
import { ToTagGenerator } from '../../src/sip/transactions/to-tag.js';

/** Helpers added to make the per-call cost of the native engine smaller; each must keep behaviour. */

const request = (extra: string[], cseq = 'CSeq: 1 OPTIONS'): string =>
  [
    'OPTIONS sip:+15550100001@127.0.0.1 SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.2.1:5060;branch=z9hG4bKhot1',
    'From: <sip:alice@example.com>;tag=a1',
    'To: <sip:+15550100001@example.com>',
    'Call-ID: hot-1@example.com',
    cseq,
    ...extra,
  ].join('\r\n') + '\r\n\r\n';

describe('knownHeaderNameAt', () => {
  it('agrees with canonicalHeaderName for common names in any case and every compact form', () => {
    const names = [
      'Via', 'VIA', 'via', 'From', 'tO', 'Call-ID', 'CALL-id', 'CSeq', 'Max-Forwards', 'Content-Length',
      'P-Asserted-Identity', 'Remote-Party-ID', 'Privacy', 'Identity', 'User-Agent', 'Require', 'Contact',
      'i', 'I', 'v', 'f', 't', 'l', 'm', 'c', 'k', 'y', 'n', 'x', 'u', 'a', 'j', 'd', 'o', 'r', 'b', 'e', 's',
    ];
    for (const n of names) {
      const text = `  ${n}:`;
      expect(knownHeaderNameAt(text, 2, 2 + n.length), n).toBe(canonicalHeaderName(n));
    }
  });

  it('leaves unknown names, near misses and non-letters to the general path', () => {
    for (const n of ['X-Custom', 'Vib', 'Fro', 'Call_ID', 'z', '1', '-', 'Via2', 'Call\rID']) {
      expect(knownHeaderNameAt(n, 0, n.length), n).toBeUndefined();
    }
  });
});

describe('parseMessage after the hot-path rewrite', () => {
  it('trims names and values exactly as String.prototype.trim did (tabs, NBSP, spaces)', () => {
    const r = parseMessage(request(['Subject\t :  \u00a0hello world \t', 'X-Thing :\tv ']));
    expect(r.problem).toBeUndefined();
    expect(r.msg.header('subject')).toBe('hello world');
    expect(r.msg.header('x-thing')).toBe('v');
  });

  it('reads CSeq like /^(\\d{1,10})\\s+(\\S+)$/', () => {
    const ok = parseMessage(request([], 'CSeq: 0042 \t OPTIONS'));
    expect(ok.problem).toBeUndefined();
    expect(ok.msg.cseqNum).toBe(42);
    expect(ok.msg.cseqMethod).toBe('OPTIONS');
    for (const bad of ['CSeq: 12345678901 OPTIONS', 'CSeq: OPTIONS', 'CSeq: 1OPTIONS', 'CSeq: 1 OPT IONS', 'CSeq: -1 OPTIONS']) {
      const r = parseMessage(request([], bad));
      expect(r.problem, bad).toBe('bad_request');
      expect(r.msg.cseqNum, bad).toBe(-1);
    }
    expect(parseMessage(request([], 'CSeq: 4294967296 OPTIONS')).detail).toBe('CSeq number too large');
  });

  it('still answers 505 for a lowercase or other version, and accepts sip/2.0 in any case', () => {
    expect(parseMessage(request([]).replace('SIP/2.0\r\n', 'sip/2.0\r\n')).problem).toBeUndefined();
    expect(parseMessage(request([]).replace('SIP/2.0\r\n', 'SIP/3.0\r\n')).problem).toBe('version');
  });

  it('headerValues of an absent header is empty and not shared mutable state', () => {
    const r = parseMessage(request([]));
    const none = r.msg.headerValues('p-asserted-identity');
    expect(none).toEqual([]);
    expect(Object.isFrozen(none)).toBe(true);
  });
});

describe('detachString', () => {
  it('returns equal text', () => {
    const parent = 'x'.repeat(100) + 'call-id-0123456789@host';
    const slice = parent.slice(100);
    expect(detachString(slice)).toBe('call-id-0123456789@host');
    expect(detachString('')).toBe('');
    expect(detachString('a')).toBe('a');
  });
});

describe('ToTagGenerator', () => {
  it('gives 16 lowercase hex digits, the same for the same key, different for another', () => {
    const gen = new ToTagGenerator(Buffer.from('0102030405060708', 'hex'));
    const a = gen.tagFor('z9hG4bK-1|127.0.0.1:5060');
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(gen.tagFor('z9hG4bK-1|127.0.0.1:5060')).toBe(a);
    expect(gen.tagFor('z9hG4bK-2|127.0.0.1:5060')).not.toBe(a);
    expect(new ToTagGenerator(Buffer.from('0102030405060709', 'hex')).tagFor('z9hG4bK-1|127.0.0.1:5060')).not.toBe(a);
  });
});

describe('batched counters', () => {
  it('CountBatch hands pending counts to prom-client when the metric is read', async () => {
    const metrics = createMetrics({ defaults: false });
    const batch = new CountBatch(metrics);
    const slot = batch.track(metrics.callEvents.labels({ trunk: 't1', cli_origin: 'from' }));
    slot.n += 3;
    const read = async (): Promise<number> =>
      (await metrics.callEvents.get()).values.find((v) => v.labels.trunk === 't1')?.value ?? 0;
    expect(await read()).toBe(3);
    slot.n++;
    expect(await read()).toBe(4);
  });

  it('SipCounters values show up exactly in the scrape text', async () => {
    const metrics = createMetrics({ defaults: false });
    const c = new SipCounters(metrics);
    for (let i = 0; i < 5; i++) c.request('INVITE', 'udp', 'loopback');
    c.request('FOO', 'udp', 'loopback');
    c.request('BAR', 'udp', 'loopback');
    c.response(486, 'udp');
    c.response(486, 'udp');
    c.response(999, 'udp');
    c.drop('stray_ack', 'udp');
    c.retransmission('request_in', 'tcp');
    const text = await metrics.registry.metrics();
    expect(text).toContain('ringproof_sip_requests_total{method="INVITE",transport="udp",trunk="loopback"} 5');
    expect(text).toContain('ringproof_sip_requests_total{method="other",transport="udp",trunk="loopback"} 2');
    expect(text).toContain('ringproof_sip_responses_total{code="486",transport="udp"} 2');
    expect(text).toContain('ringproof_sip_responses_total{code="999",transport="udp"} 1');
    expect(text).toContain('ringproof_sip_drops_total{reason="stray_ack",transport="udp"} 1');
    expect(text).toContain('ringproof_sip_retransmissions_total{kind="request_in",transport="tcp"} 1');
    // A second read does not add the same counts again.
    expect(await metrics.registry.metrics()).toContain('ringproof_sip_requests_total{method="INVITE",transport="udp",trunk="loopback"} 5');
  });
});
