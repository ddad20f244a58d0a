import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/config/hash-api-key.js';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';
import { startApiHarness, type ApiHarness } from '../helpers/api-harness.js';

const TOKEN = 'rp_numbers_token_0123456789abcdef';
const STRICT_TOKEN = 'rp_numbers_strict_fedcba98765432';
const dir = mkdtempSync(join(tmpdir(), 'ringproof-api-numbers-'));
const denyFile = join(dir, 'deny.txt');

let testRedis: TestRedis;
let h: ApiHarness;

beforeAll(async () => {
  testRedis = await startTestRedis({ appendonly: false });
  // The shipped list plus one range of this suite's own.
  writeFileSync(denyFile, '+882 International Networks: classic IRSF range\n+1202555019 a range this suite refuses\n');
  h = await startApiHarness(testRedis, {
    keys: [
      { name: 'app', hash: hashApiKey(TOKEN) },
      { name: 'strict', hash: hashApiKey(STRICT_TOKEN), policy: { inbound_call: { allowCountries: ['GB'], voip: 'refuse' } } },
    ],
    configure: (c) => { c.numbers.denyPrefixesFile = denyFile; },
  });
});

afterAll(async () => {
  await h?.close();
  if (testRedis) await stopAndClean(testRedis);
  rmSync(dir, { recursive: true, force: true });
});

async function create(body: Record<string, unknown>, token = TOKEN, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${h.baseUrl}/v1/verifications`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, body: await res.json() };
}

/** Session, phone, match and idempotency keys: everything but the expiry queue's own meta key. */
async function keysInRedis(): Promise<string[]> {
  return (await h.redis.keys(`${h.prefix}*`)).filter((k) => k !== `${h.prefix}:expiry:meta`);
}

async function refusals(labels: Record<string, string>): Promise<number> {
  const m = await h.registry.getSingleMetric('ringproof_number_refusals_total')!.get();
  return m.values.filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val)).reduce((s, v) => s + v.value, 0);
}

describe('number policy at POST /v1/verifications', () => {
  it.each([
    ['+449098790000', 'type_not_allowed', 'GB', 'premium_rate', 'premium_rate numbers are not accepted for inbound_call'],
    ['+4918012345', 'type_not_allowed', 'DE', 'shared_cost', 'shared_cost numbers are not accepted for inbound_call'],
    ['+447640123456', 'type_not_allowed', 'GB', 'pager', 'pager numbers are not accepted for inbound_call'],
    ['+15551234567', 'invalid_number', 'ZZ', 'unknown', 'the number is not in any allocated range of its region (type unknown)'],
  ])('refuses %s with 422 RP_NUMBER_REFUSED naming rule %s, country and type, and stores nothing', async (phoneNumber, rule, country, type, message) => {
    const before = await refusals({ rule, country, type, method: 'inbound_call' });
    const res = await create({ phoneNumber }, TOKEN, { 'idempotency-key': `refused-${phoneNumber}` });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ error: { code: 'RP_NUMBER_REFUSED', message, field: 'phoneNumber', rule, method: 'inbound_call', country, type } });
    expect(await keysInRedis()).toEqual([]);
    expect(await refusals({ rule, country, type, method: 'inbound_call' })).toBe(before + 1);
  });

  it('refuses a deny-listed prefix with the reason from the file', async () => {
    const res = await create({ phoneNumber: '+882 16 1234 5678' });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({
      code: 'RP_NUMBER_REFUSED', rule: 'prefix_denied', prefix: '+882', reason: 'International Networks: classic IRSF range',
      message: 'numbers starting +882 are refused: International Networks: classic IRSF range',
    });
    const own = await create({ phoneNumber: '+12025550199' });
    expect(own.body.error).toMatchObject({ rule: 'prefix_denied', prefix: '+1202555019', country: 'US', type: 'fixed_line_or_mobile' });
    expect(await keysInRedis()).toEqual([]);
  });

  it('accepts a valid number and returns phoneNumberInfo with the session, on create and on GET', async () => {
    const res = await create({ phoneNumber: '+447400123456' });
    expect(res.status).toBe(201);
    expect(res.body.phoneNumberInfo).toEqual({ country: 'GB', countryCallingCode: '44', type: 'mobile', valid: true, source: 'ranges' });
    // The refusals above left nothing; a creation does write (so that check could fail).
    expect((await keysInRedis()).length).toBeGreaterThan(0);
    const got = await fetch(`${h.baseUrl}/v1/verifications/${res.body.id}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(((await got.json()) as { phoneNumberInfo: unknown }).phoneNumberInfo).toEqual(res.body.phoneNumberInfo);
    const created = await h.registry.getSingleMetric('ringproof_number_creations_total')!.get();
    expect(created.values.find((v) => v.labels.country === 'GB' && v.labels.type === 'mobile')?.value).toBe(1);
  });

  it('flags VoIP numbers by default (inbound) and says so in phoneNumberInfo', async () => {
    const res = await create({ phoneNumber: '+445612345678' });
    expect(res.status).toBe(201);
    expect(res.body.phoneNumberInfo).toEqual({ country: 'GB', countryCallingCode: '44', type: 'voip', valid: true, source: 'ranges', flags: ['voip'] });
  });

  it('applies a key\'s own policy: country allow-list and VoIP refused for "strict" only', async () => {
    const us = await create({ phoneNumber: '+12025550123' }, STRICT_TOKEN);
    expect(us.status).toBe(422);
    expect(us.body.error).toMatchObject({ rule: 'country_not_allowed', country: 'US', message: 'US is not among the countries accepted for inbound_call' });
    const voip = await create({ phoneNumber: '+445612345678' }, STRICT_TOKEN);
    expect(voip.body.error).toMatchObject({ rule: 'voip_refused', country: 'GB', type: 'voip' });
    expect((await create({ phoneNumber: '+447400123457' }, STRICT_TOKEN)).status).toBe(201);
    expect((await create({ phoneNumber: '+12025550123' })).status).toBe(201);
  });

  it('an idempotent replay is not counted as a second creation', async () => {
    const metric = h.registry.getSingleMetric('ringproof_number_creations_total')!;
    const count = async (): Promise<number> => (await metric.get()).values.filter((v) => v.labels.country === 'FR').reduce((s, v) => s + v.value, 0);
    const headers = { 'idempotency-key': 'fr-once' };
    expect((await create({ phoneNumber: '+33612345678' }, TOKEN, headers)).status).toBe(201);
    expect((await create({ phoneNumber: '+33612345678' }, TOKEN, headers)).status).toBe(200);
    expect(await count()).toBe(1);
  });

  it('reloads the deny-prefix list without a restart', async () => {
    expect((await create({ phoneNumber: '+33612345679' })).status).toBe(201);
    writeFileSync(denyFile, '+882 International Networks: classic IRSF range\n+336123456 blocked while this test runs\n');
    expect(h.numbers.policy.reload()).toEqual({ ok: true, entries: 2 });
    const res = await create({ phoneNumber: '+33612345670' });
    expect(res.body.error).toMatchObject({ rule: 'prefix_denied', prefix: '+336123456', reason: 'blocked while this test runs' });
  });
});
