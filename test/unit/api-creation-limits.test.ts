import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RingproofConfig } from '../../src/config/config-types.js';
import { hashApiKey } from '../../src/config/hash-api-key.js';
import { startApiHarness, type ApiHarness } from '../helpers/api-harness.js';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';

const APP = 'rp_limits_app_token_0123456789ab';
const SHORT = 'rp_limits_short_token_0123456789';
const BLOCK = 'rp_limits_block_token_0123456789';
const TINY = 'rp_limits_tiny_token_01234567890';
const PREFIX = '{rplimits}';

let testRedis: TestRedis;
/** Two API processes of one deployment: same Redis, same key prefix. */
let a: ApiHarness;
let b: ApiHarness;

beforeAll(async () => {
  testRedis = await startTestRedis({ appendonly: false });
  const keys = [
    { name: 'app', hash: hashApiKey(APP) },
    { name: 'short', hash: hashApiKey(SHORT), limits: { create: { perNumber: { count: 2, windowSeconds: 1 } } } },
    { name: 'block', hash: hashApiKey(BLOCK), limits: { create: { perPrefix: { count: 3, windowSeconds: 600, digits: 10 } } } },
    { name: 'tiny', hash: hashApiKey(TINY), limits: { create: { perApiKey: { count: 2, windowSeconds: 600 } } } },
  ];
  const configure = (c: RingproofConfig): void => {
    c.limits.create = {
      enabled: true,
      perNumber: { count: 3, windowSeconds: 600 },
      perPrefix: { count: 1000, windowSeconds: 600, digits: 9 },
      perCountry: { count: 1000, windowSeconds: 600 },
      perApiKey: { count: 1000, windowSeconds: 600 },
      perClientIp: { count: 1000, windowSeconds: 600 },
    };
  };
  a = await startApiHarness(testRedis, { keys, configure, prefix: PREFIX });
  b = await startApiHarness(testRedis, { keys, configure, prefix: PREFIX });
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  if (testRedis) await stopAndClean(testRedis);
});

interface Reply { status: number; body: any; retryAfter: string | null }

async function create(h: ApiHarness, phoneNumber: string, token = APP, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(`${h.baseUrl}/v1/verifications`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ phoneNumber }),
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, body: await res.json(), retryAfter: res.headers.get('retry-after') };
}

/** Everything of the sessions (session, phone, match, idempotency keys), without the limit counters. */
async function sessionState(): Promise<string[]> {
  const keys = await a.redis.keys(`${PREFIX}*`);
  return keys.filter((k) => !k.startsWith(`${PREFIX}:lim:`) && !k.startsWith(`${PREFIX}:expiry:`)).sort();
}

async function limited(limit: string): Promise<number> {
  let sum = 0;
  for (const h of [a, b]) {
    const m = await h.registry.getSingleMetric('ringproof_creation_limited_total')?.get();
    sum += (m?.values ?? []).filter((v) => v.labels.limit === limit).reduce((s, v) => s + v.value, 0);
  }
  return sum;
}

describe('creation limits at POST /v1/verifications', () => {
  it('refuses the creation after the configured count with 429, Retry-After and the limit named, storing nothing', async () => {
    const before = await limited('perNumber');
    for (let i = 0; i < 3; i++) expect((await create(a, '+12025550101')).status).toBe(201);
    const state = await sessionState();
    const refused = await create(a, '+12025550101');
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({
      error: {
        code: 'RP_CREATION_LIMITED',
        message: expect.stringMatching(/^too many verifications for this phone number: at most 3 per 600 s; retry after \d+ s$/),
        field: 'phoneNumber', limit: 'perNumber', count: 3, windowSeconds: 600, retryAfterSeconds: expect.any(Number),
      },
    });
    const retryAfter = Number(refused.retryAfter);
    expect(retryAfter).toBe(refused.body.error.retryAfterSeconds);
    expect(retryAfter).toBeGreaterThan(590);
    expect(retryAfter).toBeLessThanOrEqual(600);
    expect(await sessionState()).toEqual(state);
    expect(await limited('perNumber')).toBe(before + 1);
    // Another number is not affected.
    expect((await create(a, '+12025550102')).status).toBe(201);
  });

  it('shares the counters between two API processes', async () => {
    expect((await create(a, '+12025550103')).status).toBe(201);
    expect((await create(b, '+12025550103')).status).toBe(201);
    expect((await create(a, '+12025550103')).status).toBe(201);
    const refusedB = await create(b, '+12025550103');
    expect(refusedB.status).toBe(429);
    expect(refusedB.body.error.limit).toBe('perNumber');
    expect((await create(a, '+12025550103')).status).toBe(429);
  });

  it('opens again when the window ends (a key with a 1 s window)', async () => {
    expect((await create(a, '+12025550104', SHORT)).status).toBe(201);
    expect((await create(b, '+12025550104', SHORT)).status).toBe(201);
    const refused = await create(a, '+12025550104', SHORT);
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBe('1');
    expect(refused.body.error).toMatchObject({ limit: 'perNumber', count: 2, windowSeconds: 1 });
    // Wait for the window's counter to expire in Redis, then the number gets a full window again.
    const counter = `${PREFIX}:lim:create:perNumber:1:+12025550104`;
    const deadline = Date.now() + 10_000;
    while (await a.redis.exists(counter) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await a.redis.exists(counter)).toBe(0);
    expect((await create(b, '+12025550104', SHORT)).status).toBe(201);
    expect((await create(a, '+12025550104', SHORT)).status).toBe(201);
    expect((await create(a, '+12025550104', SHORT)).status).toBe(429);
  });

  it('counts numbers of one block together (perPrefix) and leaves other blocks alone', async () => {
    const before = await limited('perPrefix');
    for (const n of ['+12025550110', '+12025550111', '+12025550112']) expect((await create(a, n, BLOCK)).status).toBe(201);
    const refused = await create(b, '+12025550113', BLOCK);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'RP_CREATION_LIMITED', limit: 'perPrefix', count: 3, field: 'phoneNumber' });
    expect((await create(a, '+12025550120', BLOCK)).status).toBe(201);
    expect(await limited('perPrefix')).toBe(before + 1);
  });

  it('limits an API key, blaming no input field', async () => {
    expect((await create(a, '+12025550130', TINY)).status).toBe(201);
    expect((await create(b, '+12025550131', TINY)).status).toBe(201);
    const refused = await create(a, '+12025550132', TINY);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'RP_CREATION_LIMITED', limit: 'perApiKey', count: 2, windowSeconds: 600 });
    expect(refused.body.error.field).toBeUndefined();
    expect(refused.body.error.message).toMatch(/^too many verifications for this API key/);
    // Other keys are not affected.
    expect((await create(a, '+12025550132', APP)).status).toBe(201);
  });

  it('does not count idempotent replays nor numbers the number policy refuses', async () => {
    const headers = { 'idempotency-key': 'limits-replay-1' };
    expect((await create(a, '+12025550140', APP, headers)).status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await create(b, '+12025550140', APP, headers)).status).toBe(200);
    // The replays gave their creation back: two more fit in the window of 3.
    expect((await create(a, '+12025550140')).status).toBe(201);
    expect((await create(a, '+12025550140')).status).toBe(201);
    expect((await create(a, '+12025550140')).status).toBe(429);
    // A premium-rate number is refused by the policy before any limit is taken.
    for (let i = 0; i < 5; i++) expect((await create(a, '+449098790000')).status).toBe(422);
    expect(await a.redis.exists(`${PREFIX}:lim:create:perNumber:600:+449098790000`)).toBe(0);
  });

  it('answers a retry with its original session even once the limit is full (replay before limits)', async () => {
    const headers = { 'idempotency-key': 'limits-replay-full' };
    const first = await create(a, '+12025550150', APP, headers);
    expect(first.status).toBe(201);
    // Fill the number's window of 3 with other creations; a fresh creation is now refused.
    expect((await create(a, '+12025550150')).status).toBe(201);
    expect((await create(a, '+12025550150')).status).toBe(201);
    expect((await create(b, '+12025550150')).status).toBe(429);
    const counter = `${PREFIX}:lim:create:perNumber:600:+12025550150`;
    const counted = await a.redis.get(counter);
    // The retry (on either process) still gets its original answer, and counts nothing.
    for (const h of [a, b]) {
      const again = await create(h, '+12025550150', APP, headers);
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(first.body.id);
    }
    expect(await a.redis.get(counter)).toBe(counted);
    // A key reused for another number is still a conflict, not a limit.
    const other = await create(a, '+12025550151', APP, headers);
    expect(other.status).toBe(409);
  });
});
