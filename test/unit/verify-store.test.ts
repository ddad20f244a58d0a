import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';
import { RedisVerificationStore } from '../../src/verify/redis-verification-store.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { createVerifyMetrics, type VerifyMetrics } from '../../src/verify/verify-metrics.js';
import { EXPIRY_QUEUE, expiryJobId, type ExpiryJobData } from '../../src/verify/queue-names.js';
import { RingproofError } from '../../src/errors/ringproof-error.js';

const PREFIX = '{rpstore}';
const DIDS = ['+15550000001', '+15550000002', '+15550000003', '+15550000004'];

let server: TestRedis;
let redis: Redis;
let queue: Queue<ExpiryJobData>;
let metrics: VerifyMetrics;
let registry: Registry;
let store: RedisVerificationStore;
let now = 1_700_000_000_000;

beforeAll(async () => {
  server = await startTestRedis({ appendonly: false });
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
  queue = new Queue<ExpiryJobData>(EXPIRY_QUEUE, { connection: redis, prefix: PREFIX });
});

afterAll(async () => {
  await queue.close();
  redis.disconnect();
  await stopAndClean(server);
});

beforeEach(async () => {
  await redis.flushall();
  registry = new Registry();
  metrics = createVerifyMetrics(registry);
  now = Date.now();
  store = new RedisVerificationStore({
    redis, prefix: PREFIX, dids: DIDS, expiryQueue: queue, clock: () => now, metrics,
    audit: new AuditLog({ redis, prefix: PREFIX }),
  });
});

describe('RedisVerificationStore', () => {
  it('creates a pending session with an unguessable id and a DID from the pool, and gets it back', async () => {
    const { verification: v, replayed } = await store.create({
      phoneNumber: '+447700900123', ttlSeconds: 120, owner: 'app', callbackUrl: 'http://127.0.0.1:1/hook',
      metadata: { user: 42 },
    });
    expect(replayed).toBe(false);
    expect(v.id).toMatch(/^vrf_[a-z2-7]{26}$/);
    expect(v.status).toBe('pending');
    expect(DIDS).toContain(v.callTo);
    expect(v.createdAt).toBe(new Date(now).toISOString());
    expect(v.expiresAt).toBe(new Date(now + 120_000).toISOString());
    expect(await store.get(v.id)).toEqual(v);
    expect(await store.get('vrf_doesnotexist')).toBeNull();
    expect(await store.get('../../etc')).toBeNull();

    // Bounded retention: the record expires by itself (window + grace + 7 days).
    const ttl = await redis.ttl(`${PREFIX}:vrf:${v.id}`);
    expect(ttl).toBeGreaterThan(7 * 24 * 3600);
    expect(ttl).toBeLessThanOrEqual(7 * 24 * 3600 + 123);

    const job = await queue.getJob(expiryJobId(v.id));
    expect(job?.data).toEqual({ id: v.id });
    expect(job?.opts.delay).toBe(120_000 + 2000);
    expect(await metrics.verificationsCreated.get()).toMatchObject({ values: [{ value: 1 }] });
  });

  it('draws callTo from the whole pool at random', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const { verification } = await store.create({ phoneNumber: `+4477009${String(i).padStart(5, '0')}`, ttlSeconds: 60, owner: 'a' });
      seen.add(verification.callTo as string);
    }
    // 60 draws from 4 DIDs: missing one has probability 4 * (3/4)^60 ≈ 1e-7.
    expect([...seen].sort()).toEqual([...DIDS].sort());
  });

  it('ids are distinct', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 50; i++) {
      ids.add((await store.create({ phoneNumber: `+1202555${String(i).padStart(4, '0')}`, ttlSeconds: 60, owner: 'a' })).verification.id);
    }
    expect(ids.size).toBe(50);
  });

  it('cancel: pending → cancelled; a terminal session stays; unknown → null', async () => {
    const { verification: v } = await store.create({ phoneNumber: '+447700900124', ttlSeconds: 60, owner: 'a' });
    const c = await store.cancel(v.id);
    expect(c?.status).toBe('cancelled');
    expect(c?.cancelReason).toBe('requested');
    expect((await store.get(v.id))?.status).toBe('cancelled');
    expect(await queue.getJob(expiryJobId(v.id))).toBeUndefined();
    // Cancelling again changes nothing.
    expect((await store.cancel(v.id))?.status).toBe('cancelled');

    const { verification: w } = await store.create({ phoneNumber: '+447700900125', ttlSeconds: 60, owner: 'a' });
    await redis.hset(`${PREFIX}:vrf:${w.id}`, 'status', 'verified');
    expect((await store.cancel(w.id))?.status).toBe('verified');
    expect(await store.cancel('vrf_nope')).toBeNull();
  });

  it('a new session for the same number supersedes the pending one', async () => {
    const first = (await store.create({ phoneNumber: '+447700900126', ttlSeconds: 60, owner: 'a' })).verification;
    now += 1000;
    const second = (await store.create({ phoneNumber: '+447700900126', ttlSeconds: 60, owner: 'a' })).verification;
    const old = await store.get(first.id);
    expect(old?.status).toBe('cancelled');
    expect(old?.cancelReason).toBe('superseded');
    expect((await store.get(second.id))?.status).toBe('pending');
    expect(await queue.getJob(expiryJobId(first.id))).toBeUndefined();
    expect(await queue.getJob(expiryJobId(second.id))).toBeDefined();
    // A different number is unaffected.
    const other = (await store.create({ phoneNumber: '+447700900127', ttlSeconds: 60, owner: 'a' })).verification;
    expect((await store.get(second.id))?.status).toBe('pending');
    expect((await store.get(other.id))?.status).toBe('pending');
  });

  it('concurrent creates for one number leave exactly one pending session', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, () => store.create({ phoneNumber: '+447700900128', ttlSeconds: 60, owner: 'a' })),
    );
    const states = await Promise.all(results.map((r) => store.get(r.verification.id)));
    expect(states.filter((s) => s?.status === 'pending')).toHaveLength(1);
    expect(states.filter((s) => s?.status === 'cancelled')).toHaveLength(19);
  });

  it('idempotency: same (owner, key) returns the first session with replayed=true; other owners do not share keys', async () => {
    const a = await store.create({ phoneNumber: '+447700900129', ttlSeconds: 60, owner: 'app1', idempotencyKey: 'k-1' });
    now += 500;
    const b = await store.create({ phoneNumber: '+447700900129', ttlSeconds: 60, owner: 'app1', idempotencyKey: 'k-1' });
    expect(b.replayed).toBe(true);
    expect(b.verification).toEqual(a.verification);
    // The replay did not supersede the first session.
    expect((await store.get(a.verification.id))?.status).toBe('pending');
    const c = await store.create({ phoneNumber: '+447700900130', ttlSeconds: 60, owner: 'app2', idempotencyKey: 'k-1' });
    expect(c.replayed).toBe(false);
    expect(c.verification.id).not.toBe(a.verification.id);
    const keyTtls = await Promise.all((await redis.keys(`${PREFIX}:idem:*`)).map((k) => redis.ttl(k)));
    expect(keyTtls).toHaveLength(2);
    for (const t of keyTtls) expect(t).toBeGreaterThan(24 * 3600 - 5);
    // Replays are not counted as creations.
    expect((await metrics.verificationsCreated.get()).values[0]?.value).toBe(2);
  });

  it('concurrent creates with one idempotency key create one session', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () => store.create({ phoneNumber: '+447700900131', ttlSeconds: 60, owner: 'o', idempotencyKey: 'same' })),
    );
    expect(new Set(results.map((r) => r.verification.id)).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
  });

  it('audits creation, supersede and cancel', async () => {
    const a = (await store.create({ phoneNumber: '+447700900132', ttlSeconds: 60, owner: 'o' })).verification;
    const b = (await store.create({ phoneNumber: '+447700900132', ttlSeconds: 60, owner: 'o' })).verification;
    await store.cancel(b.id);
    const entries = await redis.xrange(`${PREFIX}:audit`, '-', '+');
    const types = entries.map(([, f]) => f[1]);
    expect(types).toEqual(['session.created', 'session.superseded', 'session.created', 'session.cancelled']);
    expect(JSON.parse(entries[1]![1][5]!)).toEqual({ id: a.id, supersededBy: b.id });
  });

  it('keeps phoneNumberInfo with the session and in its audit entry', async () => {
    const phoneNumberInfo = { country: 'GB', countryCallingCode: '44', type: 'voip', valid: true, source: 'ranges', flags: ['voip'] } as const;
    const v = (await store.create({ phoneNumber: '+445612345678', ttlSeconds: 60, owner: 'o', phoneNumberInfo: { ...phoneNumberInfo, flags: ['voip'] } })).verification;
    expect(v.phoneNumberInfo).toEqual(phoneNumberInfo);
    expect((await store.get(v.id))?.phoneNumberInfo).toEqual(phoneNumberInfo);
    const entries = await redis.xrange(`${PREFIX}:audit`, '-', '+');
    const created = entries.map(([, f]) => JSON.parse(f[5]!) as Record<string, unknown>).find((d) => d.id === v.id);
    expect(created?.phoneNumberInfo).toEqual(phoneNumberInfo);
  });

  it('refuses an empty DID pool and a non-positive ttl with coded errors', async () => {
    expect(() => new RedisVerificationStore({ redis, prefix: PREFIX, dids: [], expiryQueue: queue }))
      .toThrow(RingproofError);
    await expect(store.create({ phoneNumber: '+447700900133', ttlSeconds: 0, owner: 'o' }))
      .rejects.toMatchObject({ code: 'RP_API_VALIDATION' });
  });
});
