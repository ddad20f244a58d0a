import { describe, expect, it } from 'vitest';
import { normalizePhoneNumber } from '../../src/api/normalize-phone-number.js';
import { validateCallbackUrl, type CallbackUrlRules } from '../../src/api/validate-callback-url.js';
import { createEgressPolicy } from '../../src/egress/egress-policy.js';

describe('normalizePhoneNumber', () => {
  it.each([
    ['+12025550123', undefined, '+12025550123'],
    [' +44 7911 123456 ', undefined, '+447911123456'],
    ['(212) 555-0199', 'US', '+12125550199'],
    ['+33 6 12 34 56 78', 'GB', '+33612345678'],
  ])('%j (country %s) → %s', (text, country, e164) => {
    expect(normalizePhoneNumber(text, country)).toBe(e164);
  });

  it.each([['2125550199', undefined], ['abc', undefined], ['+1555', undefined], ['12', 'US']])('refuses %j (country %s) with RP_NUMBER_INVALID', (text, country) => {
    expect(() => normalizePhoneNumber(text, country)).toThrowError(expect.objectContaining({ code: 'RP_NUMBER_INVALID', field: 'phoneNumber', statusCode: 422 }));
  });
});

describe('validateCallbackUrl', () => {
  const loopbackOk: CallbackUrlRules = { policy: createEgressPolicy({ allowPrivateTargets: ['127.0.0.0/8', '::1/128'] }) };
  const strict: CallbackUrlRules = { policy: createEgressPolicy({ configKey: 'webhooks.allowPrivateTargets' }) };

  it.each([
    'https://app.example.com/hook', 'http://127.0.0.1:8000/hook', 'http://localhost:3000/x', 'http://[::1]:9/x', 'http://api.localhost/x',
  ])('accepts %s when loopback is allowed', (url) => {
    expect(validateCallbackUrl(url, loopbackOk)).toBe(new URL(url).href);
  });

  it.each([
    'http://example.com/hook', 'http://10.0.0.5/hook', 'ftp://example.com/x', 'https://user:pw@example.com/x', '/relative', 'http://127.0.0.1.example.com/x',
  ])('refuses %s', (url) => {
    expect(() => validateCallbackUrl(url, loopbackOk)).toThrowError(expect.objectContaining({ code: 'RP_API_VALIDATION', field: 'callbackUrl' }));
  });

  it('refuses loopback unless allowed, naming the key that allows it, and reports the refusal', () => {
    const seen: string[] = [];
    const rules: CallbackUrlRules = { ...strict, onRefused: (r) => seen.push(r.reason) };
    expect(() => validateCallbackUrl('http://127.0.0.1:8000/hook', rules)).toThrowError(expect.objectContaining({
      code: 'RP_API_VALIDATION', field: 'callbackUrl',
      message: 'body/callbackUrl must not point at 127.0.0.1, a loopback address (allow it with webhooks.allowPrivateTargets)',
    }));
    expect(seen).toEqual(['loopback']);
    // A refusal that is not about the destination (bad scheme) is not an egress refusal.
    expect(() => validateCallbackUrl('ftp://example.com/x', rules)).toThrowError(expect.objectContaining({ field: 'callbackUrl' }));
    expect(seen).toEqual(['loopback']);
  });
});
