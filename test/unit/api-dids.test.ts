import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/config/hash-api-key.js';
import { startApiHarness, type ApiHarness } from '../helpers/api-harness.js';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';

// /v1/dids: admin only (an app key gets 403 before its body is read), garbage gets 400 naming the
// field, the pool's rules answer 409, an unknown DID 404.

const APP = 'rp_dids_app_token_0123456789abcd';
const DIDS = ['+15550104001', '+15550104002'];

let testRedis: TestRedis;
let open: ApiHarness;
let keyed: ApiHarness;

beforeAll(async () => {
  testRedis = await startTestRedis({ appendonly: false });
  const configure = (c: { dids: string[] }): void => { c.dids = [...DIDS]; };
  open = await startApiHarness(testRedis, { didPool: true, configure });
  keyed = await startApiHarness(testRedis, { didPool: true, configure, keys: [{ name: 'app', hash: hashApiKey(APP) }] });
});

afterAll(async () => {
  await open?.close();
  await keyed?.close();
  if (testRedis) await stopAndClean(testRedis);
});

async function call(h: ApiHarness, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${h.baseUrl}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, body: await res.json() };
}

const enc = encodeURIComponent;

describe('/v1/dids', () => {
  it('lists, adds, releases and restores (loopback operator in open mode)', async () => {
    const list = await call(open, 'GET', '/v1/dids');
    expect(list.status).toBe(200);
    expect(list.body.dids.map((d: { did: string; status: string; unwantedCalls: number }) => [d.did, d.status, d.unwantedCalls]))
      .toEqual([[DIDS[0], 'active', 0], [DIDS[1], 'active', 0]]);
    const added = await call(open, 'POST', '/v1/dids', { did: '+1 555 010 4003' });
    expect(added).toMatchObject({ status: 201, body: { did: '+15550104003', status: 'active', source: 'api' } });
    expect((await call(open, 'POST', '/v1/dids', { did: '+15550104003' })).status).toBe(200);
    const released = await call(open, 'POST', `/v1/dids/${enc('+15550104003')}/release`, { reason: 'burned', quarantineDays: 30 });
    expect(released).toMatchObject({ status: 200, body: { status: 'quarantined', reason: 'burned' } });
    const early = await call(open, 'POST', `/v1/dids/${enc('+15550104003')}/restore`, {});
    expect(early.status).toBe(409);
    expect(early.body.error).toMatchObject({ code: 'RP_API_CONFLICT' });
    expect(early.body.error.message).toMatch(/quarantined until/);
    const forced = await call(open, 'POST', `/v1/dids/${enc('+15550104003')}/restore`, { force: true });
    expect(forced).toMatchObject({ status: 200, body: { status: 'active' } });
    expect((await call(open, 'GET', `/v1/dids/${enc('+15550104009')}`)).status).toBe(404);
    const unflagged = await call(open, 'POST', `/v1/dids/${enc('+15550104003')}/unflag`);
    expect(unflagged).toMatchObject({ status: 200, body: { did: '+15550104003', status: 'active' } });
    expect(unflagged.body.flag).toBeUndefined();
  });

  it('answers garbage with 400 naming the field', async () => {
    const cases: Array<[string, string, unknown, string]> = [
      ['POST', '/v1/dids', { did: 'not a number' }, 'did'],
      ['POST', '/v1/dids', { did: 15550104001 }, 'did'],
      ['POST', '/v1/dids', {}, 'did'],
      ['POST', '/v1/dids', { did: '+15550104001', status: 'active' }, 'status'],
      ['POST', `/v1/dids/${enc('+15550104001')}/release`, { quarantineDays: -1 }, 'quarantineDays'],
      ['POST', `/v1/dids/${enc('+15550104001')}/release`, { reason: 'x'.repeat(500) }, 'reason'],
      ['POST', `/v1/dids/${enc('+15550104001')}/restore`, { force: 'yes' }, 'force'],
      ['POST', `/v1/dids/${enc('12')}/release`, {}, 'did'],
    ];
    for (const [method, path, body, field] of cases) {
      const r = await call(open, method, path, body);
      expect(r.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(r.body.error.field, `${path} ${JSON.stringify(body)}`).toBe(field);
    }
    expect((await call(open, 'POST', '/v1/dids', '{"did":')).status).toBe(400);
  });

  it('refuses an app key with 403, before its body is read', async () => {
    for (const [method, path, body] of [['GET', '/v1/dids', undefined], ['POST', '/v1/dids', { did: 'garbage' }]] as const) {
      const r = await call(keyed, method, path, body, APP);
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('RP_API_ADMIN_REQUIRED');
    }
    // Verifications still work for that key.
    expect((await call(keyed, 'POST', '/v1/verifications', { phoneNumber: '+12025550160' }, APP)).status).toBe(201);
  });
});
