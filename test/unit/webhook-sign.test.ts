import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { WebhookSigner, signWebhook, verifyWebhook } from '../../src/webhooks/sign.js';
import { generateWebhookSecret, parseWebhookSecret } from '../../src/webhooks/webhook-secret.js';
import { isRingproofError } from '../../src/errors/ringproof-error.js';

const OLD = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
const NEW = generateWebhookSecret();
const body = JSON.stringify({ id: 'evt_1', type: 'verification.verified', data: { x: 'é✓' } });

function headersFor(sig: string, id: string, ts: number): Record<string, string> {
  return { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': sig };
}

describe('webhook signing (Standard Webhooks)', () => {
  it('one secret: verifies with the standardwebhooks package', () => {
    const ts = Math.floor(Date.now() / 1000);
    const sig = signWebhook([NEW], 'evt_1', ts, body);
    expect(sig).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    const payload = new Webhook(NEW).verify(body, headersFor(sig, 'evt_1', ts));
    expect(payload).toEqual(JSON.parse(body));
  });

  it('two rotated secrets: both old and new secret holders verify', () => {
    const ts = Math.floor(Date.now() / 1000);
    const signer = new WebhookSigner([NEW, OLD]);
    const sig = signer.sign('evt_2', ts, body);
    expect(sig.split(' ')).toHaveLength(2);
    for (const secret of [OLD, NEW]) {
      expect(new Webhook(secret).verify(body, headersFor(sig, 'evt_2', ts))).toEqual(JSON.parse(body));
      expect(verifyWebhook(secret, headersFor(sig, 'evt_2', ts), body)).toEqual({ ok: true, timestamp: ts });
    }
    // A third, unrelated secret matches neither signature.
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headersFor(sig, 'evt_2', ts))).toThrow();
  });

  it('matches the reference implementation byte for byte', () => {
    const ts = 1_700_000_000;
    const ref = new Webhook(OLD).sign('msg_abc', new Date(ts * 1000), body);
    expect(signWebhook([OLD], 'msg_abc', ts, body)).toBe(ref);
  });

  it('a tampered body, id or timestamp fails', () => {
    const ts = Math.floor(Date.now() / 1000);
    const sig = signWebhook([NEW], 'evt_3', ts, body);
    const tampered = body.replace('verified', 'expired');
    expect(() => new Webhook(NEW).verify(tampered, headersFor(sig, 'evt_3', ts))).toThrow();
    expect(verifyWebhook(NEW, headersFor(sig, 'evt_3', ts), tampered)).toEqual({ ok: false, reason: 'no-matching-signature' });
    expect(verifyWebhook(NEW, headersFor(sig, 'evt_4', ts), body).ok).toBe(false);
    expect(verifyWebhook(NEW, headersFor(sig, 'evt_3', ts + 1), body).ok).toBe(false);
  });

  it('verifyWebhook: timestamp tolerance, missing headers, Headers objects, Buffer bodies', () => {
    const ts = 1_700_000_000;
    const sig = signWebhook([NEW], 'evt_5', ts, body);
    const h = headersFor(sig, 'evt_5', ts);
    expect(verifyWebhook(NEW, h, body, 300, ts + 299).ok).toBe(true);
    expect(verifyWebhook(NEW, h, body, 300, ts + 301)).toEqual({ ok: false, reason: 'timestamp-out-of-tolerance' });
    expect(verifyWebhook(NEW, h, body, 300, ts - 301).ok).toBe(false);
    expect(verifyWebhook(NEW, { 'webhook-id': 'evt_5' }, body, 300, ts)).toEqual({ ok: false, reason: 'missing-headers' });
    expect(verifyWebhook(NEW, { ...h, 'webhook-timestamp': '12abc' }, body, 300, ts)).toEqual({ ok: false, reason: 'bad-timestamp' });
    expect(verifyWebhook(NEW, new Headers(h), Buffer.from(body), 300, ts).ok).toBe(true);
    // Mixed-case header names as some frameworks hand them over.
    expect(verifyWebhook(NEW, { 'Webhook-Id': 'evt_5', 'Webhook-Timestamp': String(ts), 'Webhook-Signature': sig }, body, 300, ts).ok).toBe(true);
    // Unknown versions and garbage entries are skipped, not fatal.
    expect(verifyWebhook(NEW, { ...h, 'webhook-signature': `v1a,xyz garbage ${sig}` }, body, 300, ts).ok).toBe(true);
  });

  it('rejects bad secrets with RP_CONFIG_INVALID and never echoes them', () => {
    const bad = ['nope', 'whsec_!!!notbase64', 'whsec_' + Buffer.alloc(8).toString('base64')];
    for (const s of bad) {
      try {
        parseWebhookSecret(s);
        expect.unreachable(`accepted ${s}`);
      } catch (err) {
        expect(isRingproofError(err) && err.code).toBe('RP_CONFIG_INVALID');
        expect((err as Error).message).not.toContain(s.slice(6) || s);
      }
    }
    expect(() => new WebhookSigner([])).toThrow(/at least one/);
    expect(parseWebhookSecret(NEW)).toHaveLength(32);
  });
});
