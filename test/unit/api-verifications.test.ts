import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/config/hash-api-key.js';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';
import { startApiHarness, type ApiHarness } from '../helpers/api-harness.js';

const TOKEN = 'rp_test_token_0123456789abcdef';
const OTHER_TOKEN = 'rp_other_token_fedcba9876543210';

let testRedis: TestRedis;
let keyed: ApiHarness;
let open: ApiHarness;

beforeAll(async () => {
  testRedis = await startTestRedis({ appendonly: false });
  keyed = await startApiHarness(testRedis, {
    keys: [{ name: 'app', hash: hashApiKey(TOKEN) }, { name: 'other', hash: hashApiKey(OTHER_TOKEN) }],
  });
  open = await startApiHarness(testRedis);
});

afterAll(async () => {
  await keyed?.close();
  await open?.close();
  if (testRedis) await stopAndClean(testRedis);
});

interface Res {
  status: number;
  headers: Headers;
  body: any;
}

async function call(h: ApiHarness, method: string, path: string, opts: { body?: unknown; token?: string | null; headers?: Record<string, string>; rawBody?: string } = {}): Promise<Res> {
  const headers: Record<string, string> = { ...opts.headers };
  const token = opts.token === undefined ? TOKEN : opts.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body: string | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  const res = await fetch(`${h.baseUrl}${path}`, { method, headers, body, signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
}

const create = (body: unknown, opts: { token?: string | null; headers?: Record<string, string> } = {}) =>
  call(keyed, 'POST', '/v1/verifications', { body, ...opts });

describe('POST /v1/verifications', () => {
  it('creates a pending session with a DID from the pool and the default ttl', async () => {
    const before = Date.now();
    const res = await create({ phoneNumber: '+12025550123' });
    expect(res.status).toBe(201);
    const v = res.body;
    expect(Object.keys(v).sort()).toEqual(['callTo', 'createdAt', 'expiresAt', 'id', 'phoneNumber', 'phoneNumberInfo', 'status']);
    expect(v.phoneNumberInfo).toEqual({ country: 'US', countryCallingCode: '1', type: 'fixed_line_or_mobile', valid: true, source: 'ranges' });
    expect(v.status).toBe('pending');
    expect(v.phoneNumber).toBe('+12025550123');
    expect(keyed.config.dids).toContain(v.callTo);
    expect(v.id).toMatch(/^[A-Za-z0-9_-]+$/);
    const ttlMs = Date.parse(v.expiresAt) - Date.parse(v.createdAt);
    expect(ttlMs).toBe(120_000);
    expect(Date.parse(v.createdAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(res.headers.get('location')).toBe(`/v1/verifications/${v.id}`);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('idempotency-replayed')).toBeNull();
  });

  it('normalizes international and national forms to E.164', async () => {
    const intl = await create({ phoneNumber: '+1 (212) 555-0199' });
    expect(intl.status).toBe(201);
    expect(intl.body.phoneNumber).toBe('+12125550199');
    const national = await create({ phoneNumber: '07911 123456', country: 'GB' });
    expect(national.status).toBe(201);
    expect(national.body.phoneNumber).toBe('+447911123456');
  });

  it('echoes callbackUrl and metadata and honours ttlSeconds', async () => {
    const res = await create({
      phoneNumber: '+12025550001', ttlSeconds: 300, callbackUrl: 'https://app.example.com/hooks/rp', metadata: { userId: 42, plan: 'pro' },
    });
    expect(res.status).toBe(201);
    expect(res.body.callbackUrl).toBe('https://app.example.com/hooks/rp');
    expect(res.body.metadata).toEqual({ userId: 42, plan: 'pro' });
    expect(Date.parse(res.body.expiresAt) - Date.parse(res.body.createdAt)).toBe(300_000);
  });

  it.each([
    ['ttlSeconds', { phoneNumber: '+12025550123', ttlSeconds: 30 }, 'body/ttlSeconds must be >= 60'],
    ['ttlSeconds', { phoneNumber: '+12025550123', ttlSeconds: 301 }, 'body/ttlSeconds must be <= 300'],
    ['ttlSeconds', { phoneNumber: '+12025550123', ttlSeconds: 90.5 }, 'body/ttlSeconds must be integer'],
    ['phoneNumber', { ttlSeconds: 120 }, "body must have required property 'phoneNumber'"],
    ['ttl', { phoneNumber: '+12025550123', ttl: 120 }, 'body/ttl is not an allowed property'],
    ['country', { phoneNumber: '+12025550123', country: 'gb' }, 'body/country must match pattern "^[A-Z]{2}$"'],
    ['country', { phoneNumber: '+12025550123', country: 'XX' }, 'body/country "XX" is not a supported ISO 3166-1 alpha-2 country code'],
    ['callbackUrl', { phoneNumber: '+12025550123', callbackUrl: 'http://app.example.com/hook' }, 'body/callbackUrl must use https unless the host is loopback (localhost, 127.0.0.1, [::1])'],
    ['callbackUrl', { phoneNumber: '+12025550123', callbackUrl: 'not a url' }, 'body/callbackUrl must be an absolute http(s) URL'],
    ['metadata', { phoneNumber: '+12025550123', metadata: { big: 'x'.repeat(5000) } }, 'body/metadata must be at most 4096 bytes as JSON, got 5010'],
    ['metadata', { phoneNumber: '+12025550123', metadata: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, i])) }, 'body/metadata must NOT have more than 20 properties'],
  ])('rejects a bad %s (case %#) with 400 naming it', async (field, body, message) => {
    const res = await create(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code: 'RP_API_VALIDATION', message, field } });
  });

  it.each(['abc', '+1555', '2025550123'])('rejects phoneNumber %j with 422 RP_NUMBER_INVALID', async (phoneNumber) => {
    const res = await create({ phoneNumber });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('RP_NUMBER_INVALID');
    expect(res.body.error.field).toBe('phoneNumber');
    expect(res.body.error.message).toMatch(/^body\/phoneNumber /);
  });

  it('accepts http callback URLs to loopback hosts', async () => {
    const res = await create({ phoneNumber: '+12025550002', callbackUrl: 'http://127.0.0.1:9999/hook' });
    expect(res.status).toBe(201);
    expect(res.body.callbackUrl).toBe('http://127.0.0.1:9999/hook');
  });

  it('rejects bad JSON, a missing body and an over-long Idempotency-Key with the API error shape', async () => {
    const bad = await call(keyed, 'POST', '/v1/verifications', { rawBody: '{"phoneNumber":', headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('RP_API_VALIDATION');
    const none = await call(keyed, 'POST', '/v1/verifications');
    expect(none.status).toBe(400);
    expect(none.body.error).toEqual({ code: 'RP_API_VALIDATION', message: 'body must be object' });
    const longKey = await create({ phoneNumber: '+12025550123' }, { headers: { 'idempotency-key': 'k'.repeat(256) } });
    expect(longKey.status).toBe(400);
    expect(longKey.body.error).toEqual({
      code: 'RP_API_VALIDATION', message: 'headers/idempotency-key must NOT have more than 255 characters', field: 'idempotency-key',
    });
  });

  it('replays an Idempotency-Key with 200, the same body and Idempotency-Replayed: true', async () => {
    const headers = { 'idempotency-key': 'order-7731' };
    const first = await create({ phoneNumber: '+12025550003' }, { headers });
    expect(first.status).toBe(201);
    const again = await create({ phoneNumber: '+12025550003' }, { headers });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotency-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    // Keys are scoped per API key: another key with the same Idempotency-Key gets its own session.
    const other = await create({ phoneNumber: '+12025550003' }, { headers, token: OTHER_TOKEN });
    expect(other.status).toBe(201);
    expect(other.body.id).not.toBe(first.body.id);
  });

  it('refuses an Idempotency-Key reused for another phone number with 409', async () => {
    const headers = { 'idempotency-key': 'order-9000' };
    expect((await create({ phoneNumber: '+12025550010' }, { headers })).status).toBe(201);
    const res = await create({ phoneNumber: '+12025550011' }, { headers });
    expect(res.status).toBe(409);
    expect(res.body.error).toEqual({
      code: 'RP_API_CONFLICT', message: 'Idempotency-Key was already used for a different phoneNumber, callbackUrl or callerTrustPolicy', field: 'idempotency-key',
    });
  });
});

describe('GET and DELETE /v1/verifications/:id', () => {
  it('reads a session, 404s an unknown one', async () => {
    const created = await create({ phoneNumber: '+12025550004' });
    const got = await call(keyed, 'GET', `/v1/verifications/${created.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created.body);
    const missing = await call(keyed, 'GET', '/v1/verifications/vrf_doesnotexist');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: { code: 'RP_API_NOT_FOUND', message: 'verification vrf_doesnotexist not found' } });
    const badId = await call(keyed, 'GET', '/v1/verifications/has%20space');
    expect(badId.status).toBe(400);
    expect(badId.body.error.field).toBe('id');
  });

  it('cancels: DELETE returns the cancelled session, GET then shows it, a second DELETE is unchanged', async () => {
    const created = await create({ phoneNumber: '+12025550005' });
    const del = await call(keyed, 'DELETE', `/v1/verifications/${created.body.id}`);
    expect(del.status).toBe(200);
    expect(del.body.status).toBe('cancelled');
    expect(del.body.id).toBe(created.body.id);
    const got = await call(keyed, 'GET', `/v1/verifications/${created.body.id}`);
    expect(got.body.status).toBe('cancelled');
    const again = await call(keyed, 'DELETE', `/v1/verifications/${created.body.id}`);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(got.body);
    const missing = await call(keyed, 'DELETE', '/v1/verifications/vrf_doesnotexist');
    expect(missing.status).toBe(404);
  });

  it('answers unknown routes under /v1 with a JSON 404', async () => {
    const res = await call(keyed, 'GET', '/v1/nothing-here?x=1');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'RP_API_NOT_FOUND', message: 'no route GET /v1/nothing-here' } });
    const wrongMethod = await call(keyed, 'PUT', '/v1/verifications');
    expect(wrongMethod.status).toBe(404);
    expect(wrongMethod.body.error.code).toBe('RP_API_NOT_FOUND');
  });
});

describe('authentication', () => {
  it('401 with WWW-Authenticate: Bearer when the header is missing', async () => {
    const res = await create({ phoneNumber: '+12025550123' }, { token: null });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
    expect(res.body.error.code).toBe('RP_API_UNAUTHORIZED');
  });

  it('401 for an unknown or malformed credential, also on GET, DELETE and unknown /v1 routes', async () => {
    const unknown = await create({ phoneNumber: '+12025550123' }, { token: 'not-a-key' });
    expect(unknown.status).toBe(401);
    expect(unknown.body.error).toEqual({ code: 'RP_API_UNAUTHORIZED', message: 'unknown API key' });
    expect(unknown.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const basic = await call(keyed, 'GET', '/v1/verifications/vrf_x', { token: null, headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(basic.status).toBe(401);
    expect(basic.body.error.message).toMatch(/^malformed Authorization header/);
    expect((await call(keyed, 'DELETE', '/v1/verifications/vrf_x', { token: 'nope' })).status).toBe(401);
    expect((await call(keyed, 'GET', '/v1/elsewhere', { token: null })).status).toBe(401);
  });

  it('accepts the scheme name case-insensitively', async () => {
    const res = await call(keyed, 'GET', '/v1/verifications/vrf_none', { token: null, headers: { authorization: `bearer ${TOKEN}` } });
    expect(res.status).toBe(404);
  });

  it('open mode (no keys) serves loopback clients without credentials and says so in the log once', async () => {
    const res = await call(open, 'POST', '/v1/verifications', { body: { phoneNumber: '+12025550006' }, token: null });
    expect(res.status).toBe(201);
    const got = await call(open, 'GET', `/v1/verifications/${res.body.id}`, { token: null });
    expect(got.status).toBe(200);
    const warnings = open.logLines().filter((l) => l.msg === 'no API keys configured: API accepts loopback clients only');
    expect(warnings).toHaveLength(1);
    expect(keyed.logLines().some((l) => l.msg === 'no API keys configured: API accepts loopback clients only')).toBe(false);
  });

  it('does not leak phone numbers in clear into the logs', async () => {
    await create({ phoneNumber: '+12025559876' });
    const text = JSON.stringify(keyed.logLines());
    expect(text).toContain('verification created');
    expect(text).not.toContain('+12025559876');
  });
});

describe('OpenAPI and metrics', () => {
  it('serves the committed openapi/openapi.json without credentials', async () => {
    const committed = JSON.parse(readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8'));
    const res = await call(keyed, 'GET', '/openapi.json', { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toEqual(committed);
    expect(res.body.openapi).toBe('3.1.0');
  });

  it('counts requests by route pattern and status, never by raw URL', async () => {
    await call(keyed, 'GET', '/v1/verifications/vrf_metric1');
    await call(keyed, 'GET', '/v1/verifications/vrf_metric2');
    await call(keyed, 'GET', '/v1/zzz-unknown-path');
    const text = await keyed.registry.getSingleMetricAsString('ringproof_api_requests_total');
    expect(text).toMatch(/ringproof_api_requests_total\{route="\/v1\/verifications\/:id",status="404"\} [2-9]\d*/);
    expect(text).toMatch(/ringproof_api_requests_total\{route="\/v1\/verifications",status="201"\} \d+/);
    expect(text).toMatch(/ringproof_api_requests_total\{route="unmatched",status="404"\} \d+/);
    expect(text).not.toContain('vrf_metric1');
    expect(text).not.toContain('zzz-unknown-path');
  });
});

describe('method (flash calls, #12)', () => {
  it('inbound_call is the default and may be named', async () => {
    const res = await create({ phoneNumber: '+12025550142', method: 'inbound_call' });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('pending');
  });

  it('flash_call with no outbound trunk: 422 naming outbound.trunks, nothing stored', async () => {
    const res = await create({ phoneNumber: '+12025550143', method: 'flash_call' });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'RP_FLASH_CALL_UNAVAILABLE', field: 'method' });
    expect(res.body.error.message).toContain('outbound.trunks');
    // No session was stored for the number.
    const keys = await keyed.redis.keys(`${keyed.prefix}*`);
    expect(keys.some((k) => k.includes('+12025550143'))).toBe(false);
    expect(keyed.logLines().some((l) => l.msg === 'verification created' && String(l.phoneNumber).endsWith('43'))).toBe(false);
  });

  it('flash_call with outbound trunks but no flash queue wired to this API: 422, nothing stored', async () => {
    const withTrunks = await startApiHarness(testRedis, {
      configure: (c) => {
        c.outbound.trunks = [{
          name: 'out', target: { transport: 'udp', host: '127.0.0.1', port: 9, text: 'udp:127.0.0.1:9' }, outboundProxy: undefined,
          domain: '127.0.0.1', fromDomain: '127.0.0.1', numberFormat: 'e164', pai: true, credentials: undefined, cps: 1, maxConcurrent: 1,
          cliPool: [{ prefix: '+4420794600', digits: 2, text: '+4420794600XX' }],
        }];
      },
    });
    try {
      const res = await call(withTrunks, 'POST', '/v1/verifications', { body: { phoneNumber: '+12025550145', method: 'flash_call' }, token: null });
      expect(res.status).toBe(422);
      expect(res.body.error).toMatchObject({ code: 'RP_FLASH_CALL_UNAVAILABLE', field: 'method' });
      expect(res.body.error.message).toContain('no flash queue');
      // Only the expiry queue's own bookkeeping: no session, no limit counter.
      const keys = await withTrunks.redis.keys(`${withTrunks.prefix}*`);
      expect(keys.filter((k) => !k.startsWith(`${withTrunks.prefix}:expiry:`))).toEqual([]);
    } finally {
      await withTrunks.close();
    }
  });

  it('an unknown method is a validation error naming the field', async () => {
    const res = await create({ phoneNumber: '+12025550144', method: 'sms' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('RP_API_VALIDATION');
    expect(JSON.stringify(res.body.error)).toContain('method');
  });
});

describe('POST /v1/verifications callerTrustPolicy', () => {
  it('a stricter policy is kept with the session, its unset fields from the trust configuration, and shown by GET', async () => {
    const res = await create({ phoneNumber: '+12025550150', callerTrustPolicy: { minAttestation: 'B' } });
    expect(res.status).toBe(201);
    const policy = { failed: 'reject', minAttestation: 'B', requireNetworkAsserted: false };
    expect(res.body.callerTrustPolicy).toEqual(policy);
    expect((await call(keyed, 'GET', `/v1/verifications/${res.body.id}`)).body.callerTrustPolicy).toEqual(policy);
    const asserted = await create({ phoneNumber: '+12025550151', callerTrustPolicy: { requireNetworkAsserted: true, minAttestation: 'A' } });
    expect(asserted.body.callerTrustPolicy).toEqual({ failed: 'reject', minAttestation: 'A', requireNetworkAsserted: true });
    // Without one the session follows the deployment's policy and shows none.
    expect((await create({ phoneNumber: '+12025550152' })).body.callerTrustPolicy).toBeUndefined();
  });

  it('a looser policy is 422 RP_CALLER_TRUST_POLICY_REFUSED naming the field under trust.perVerification tighten; nothing stored', async () => {
    const res = await create({ phoneNumber: '+12025550153', callerTrustPolicy: { minAttestation: 'A', failed: 'accept' } });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'RP_CALLER_TRUST_POLICY_REFUSED', field: 'callerTrustPolicy.failed' });
    expect(res.body.error.message).toContain('trust.perVerification');
    const keys = await keyed.redis.keys(`${keyed.prefix}*`);
    expect(keys.some((k) => k.includes('+12025550153'))).toBe(false);
  });

  it('with trust.perVerification any an app may relax; looser than a strict deployment policy is refused by tighten', async () => {
    const strict = await startApiHarness(testRedis, { configure: (c) => { c.trust.minAttestation = 'B'; c.trust.requireNetworkAsserted = true; } });
    const relaxed = await startApiHarness(testRedis, { configure: (c) => { c.trust.minAttestation = 'B'; c.trust.perVerification = 'any'; } });
    try {
      const post = (h: ApiHarness, body: unknown) => call(h, 'POST', '/v1/verifications', { body, token: null });
      const lower = await post(strict, { phoneNumber: '+12025550154', callerTrustPolicy: { minAttestation: 'C' } });
      expect(lower.status).toBe(422);
      expect(lower.body.error.field).toBe('callerTrustPolicy.minAttestation');
      const notAsserted = await post(strict, { phoneNumber: '+12025550154', callerTrustPolicy: { requireNetworkAsserted: false } });
      expect(notAsserted.body.error.field).toBe('callerTrustPolicy.requireNetworkAsserted');
      // Equal is not looser.
      expect((await post(strict, { phoneNumber: '+12025550154', callerTrustPolicy: { minAttestation: 'B' } })).body.callerTrustPolicy)
        .toEqual({ failed: 'reject', minAttestation: 'B', requireNetworkAsserted: true });
      const ok = await post(relaxed, { phoneNumber: '+12025550155', callerTrustPolicy: { minAttestation: 'none', failed: 'accept' } });
      expect(ok.status).toBe(201);
      expect(ok.body.callerTrustPolicy).toEqual({ failed: 'accept', minAttestation: 'none', requireNetworkAsserted: false });
    } finally {
      await strict.close();
      await relaxed.close();
    }
  });

  it('bad shapes are 400 naming the field: an unknown property, a bad value, not an object', async () => {
    const typo = await create({ phoneNumber: '+12025550156', callerTrustPolicy: { minAtestation: 'A' } });
    expect(typo.status).toBe(400);
    expect(typo.body.error).toMatchObject({ code: 'RP_API_VALIDATION', field: 'callerTrustPolicy.minAtestation' });
    for (const bad of [{ minAttestation: 'D' }, { requireNetworkAsserted: 'yes' }, { failed: null }, 'strict', ['A'], 7]) {
      const res = await create({ phoneNumber: '+12025550156', callerTrustPolicy: bad });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(JSON.stringify(res.body.error), JSON.stringify(bad)).toContain('callerTrustPolicy');
    }
  });

  it('an Idempotency-Key replay must ask for the same policy: same = 200, another = 409', async () => {
    const headers = { 'idempotency-key': 'trust-1' };
    const first = await create({ phoneNumber: '+12025550157', callerTrustPolicy: { minAttestation: 'C' } }, { headers });
    expect(first.status).toBe(201);
    // The same policy spelled out in full is the same policy.
    const again = await create({ phoneNumber: '+12025550157', callerTrustPolicy: { minAttestation: 'C', failed: 'reject' } }, { headers });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect((await create({ phoneNumber: '+12025550157', callerTrustPolicy: { minAttestation: 'A' } }, { headers })).status).toBe(409);
    expect((await create({ phoneNumber: '+12025550157' }, { headers })).status).toBe(409);
  });
});
