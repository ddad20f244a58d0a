import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { extractCli } from '../../src/edge/cli-extract.js';
import { createPhoneNormalizer } from '../../src/edge/phone-normalize.js';
import { DrachtioInvite } from '../../src/sip/engines/drachtio/drachtio-invite.js';
import type { SrfRequest, SrfSipMessage } from '../../src/sip/engines/drachtio/srf-seam.js';
import { parseMessage } from '../../src/sip/wire/parse-message.js';

// drachtio-srf's own Request and SipMessage, built from raw SIP text as its agent does on receipt.
const require = createRequire(import.meta.url);
const SipMessage = require('drachtio-srf').SipMessage as new (raw: string) => SrfSipMessage;
const Request = require('drachtio-srf/lib/request.js') as new (msg: SrfSipMessage, meta: Record<string, string>) => SrfRequest;

const META = { source: 'network', address: '198.51.100.7', port: '5062', protocol: 'tcp', time: '', transactionId: 't1', dialogId: '' };
const SOURCE = { address: '198.51.100.7', port: 5062, transport: 'tcp' as const };

const RAW = [
  'INVITE tel:+442079460000 SIP/2.0',
  'v: SIP/2.0/TCP 198.51.100.7:5062;branch=z9hG4bK-x',
  'f: "Alice" <sip:alice@carrier.example>;tag=1',
  't: <tel:+442079460000>',
  'i: call-xyz@carrier',
  'CSeq: 1 INVITE',
  'P-Asserted-Identity: "Alice" <sip:alice@carrier.example>',
  'P-Asserted-Identity: <tel:+447700900555;verstat=TN-Validation-Passed>',
  'X-Carrier-Ref: AbC',
  'Max-Forwards: 70',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

describe('DrachtioInvite over a drachtio-srf Request built from raw SIP', () => {
  const req = new Request(new SipMessage(RAW), META);

  it('is what srf alone gets wrong: tel URIs and the second PAI', () => {
    // The reasons for the adapter, pinned: if srf changes, this test says so.
    expect((req as unknown as { msg: { callingNumber: string } }).msg.callingNumber).toBe('alice');
    expect(req.get('p-asserted-identity')).toContain(',');
  });

  it('gives the same headers as the native parser, compact forms and repeated lines included', () => {
    const inv = new DrachtioInvite(req, SOURCE, 1_000);
    const native = parseMessage(RAW).msg;
    expect(inv.callId).toBe('call-xyz@carrier');
    expect(inv.requestUri).toBe('tel:+442079460000');
    for (const name of ['p-asserted-identity', 'from', 'to', 'x-carrier-ref', 'via', 'privacy']) {
      expect(inv.headerValues(name)).toEqual(native.headerValues(name));
      expect(inv.header(name)).toEqual(native.header(name));
    }
    expect(inv.headerValues('p-asserted-identity')).toHaveLength(2);
  });

  it('feeds the project CLI extraction: tel PAI wins, verstat read', () => {
    const inv = new DrachtioInvite(req, SOURCE, 1_000);
    const cli = extractCli(inv, ['pai', 'rpid', 'from'], createPhoneNormalizer('GB'));
    expect(cli).toMatchObject({ cli: '+447700900555', origin: 'pai', verstat: 'TN-Validation-Passed' });
  });

  it('falls back to srf header map (canonical names, split values) when the raw text is unusable', () => {
    const msg = new SipMessage(RAW);
    const broken = Object.create(req, { msg: { value: { headers: msg.headers, raw: 'garbage', get: (n: string) => msg.get(n) } } }) as SrfRequest;
    const inv = new DrachtioInvite(broken, SOURCE, 1_000);
    expect(inv.headerValues('p-asserted-identity')).toEqual(['"Alice" <sip:alice@carrier.example>', '<tel:+447700900555;verstat=TN-Validation-Passed>']);
    expect(inv.header('x-carrier-ref')).toBe('AbC');
    expect(inv.header('call-id')).toBe('call-xyz@carrier');
  });
});
