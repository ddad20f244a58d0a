import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import { pino } from 'pino';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';
import { conversionCheck, countVerified } from '../../src/limits/conversion-check.js';
import { conversionKeys } from '../../src/limits/conversion-keys.js';
import { defaultConversionConfig } from '../../src/limits/create-limit-defaults.js';
import { createLimitMetrics } from '../../src/limits/create-limit-metrics.js';
import type { CreationRequest } from '../../src/api/creation-checks.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { CallWorker } from '../../src/verify/call-worker.js';
import { EXPIRY_QUEUE, type ExpiryJobData } from '../../src/verify/queue-names.js';
import { RedisVerificationStore } from '../../src/verify/redis-verification-store.js';
import { createVerifyMetrics } from '../../src/verify/verify-metrics.js';
import type { WebhookEmitter } from '../../src/verify/verification-types.js';

// The low-conversion throttle: a prefix whose sessions rarely verify gets a few creations per
// window; the API counts creations, the call worker verifications.

const PREFIX = '{rpconv}';
const conversion = { ...defaultConversionConfig(), minCreated: 20, minRate: 0.25, throttle: { count: 2, windowSeconds: 600 } };

let server: TestRedis;
let redis: Redis;
const now = Date.UTC(2026, 11, 7, 12, 0, 0);

beforeAll(async () => {
  server = await startTestRedis({ appendonly: false });
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
});

afterAll(async () => {
  redis.disconnect();
  await stopAndClean(server);
});

beforeEach(async () => { await redis.flushall(); });

const req = (phoneNumber: string): CreationRequest => ({ phoneNumber, method: 'inbound_call', principal: 'app', clientIp: '127.0.0.1' });
const until = async (probe: () => Promise<boolean>): Promise<void> => {
  for (let i = 0; i < 100 && !(await probe()); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('low-conversion throttle', () => {
  it('throttles a prefix that rarely verifies to throttle.count creations, names lowConversion, and lets it recover', async () => {
    const registry = new Registry();
    const check = conversionCheck({ redis, prefix: PREFIX, conversion, metrics: createLimitMetrics(registry), logger: pino({ level: 'silent' }), clock: () => now });
    // 20 sessions in +1202555 (7 digits), 4 verified: 20 % < 25 %.
    for (let i = 0; i < 20; i++) {
      const r = req(`+1202555${String(1000 + i)}`);
      expect(await check.check(r, {})).toBeUndefined();
      check.created?.(r, {});
    }
    const k = conversionKeys(PREFIX, conversion, '+12025551000', now);
    await until(async () => (await redis.get(k.created[0])) === '20');
    await countVerified(redis, PREFIX, conversion, ['+12025551000', '+12025551001', '+12025551002', '+12025551003'], now);
    // Two more get through (the throttle), the next is refused.
    expect(await check.check(req('+12025559000'), {})).toBeUndefined();
    expect(await check.check(req('+12025559001'), {})).toBeUndefined();
    const refused = await check.check(req('+12025559002'), {});
    expect(refused).toMatchObject({ status: 429, code: 'RP_CREATION_LIMITED', field: 'phoneNumber', details: { limit: 'lowConversion', created: 20, verified: 4 } });
    expect(refused?.retryAfterSeconds).toBeGreaterThan(500);
    // Another prefix is not affected.
    expect(await check.check(req('+12025660000'), {})).toBeUndefined();
    // One more verification: 5 of 20 = 25 %, no longer low.
    await countVerified(redis, PREFIX, conversion, ['+12025551004'], now);
    expect(await check.check(req('+12025559003'), {})).toBeUndefined();
    const m = await registry.getSingleMetric('ringproof_creation_limited_total')?.get();
    expect(m?.values.find((v) => v.labels.limit === 'lowConversion')?.value).toBe(1);
  });

  it('the call worker counts each verified session by its number', async () => {
    const expiryQueue = new Queue<ExpiryJobData>(EXPIRY_QUEUE, { connection: redis, prefix: PREFIX });
    const audit = new AuditLog({ redis, prefix: PREFIX });
    const metrics = createVerifyMetrics(new Registry());
    const store = new RedisVerificationStore({ redis, prefix: PREFIX, dids: ['+15550106001'], expiryQueue, metrics, audit });
    const emitter: WebhookEmitter = { emit: async () => undefined };
    const w = new CallWorker({ connection: redis, prefix: PREFIX, emitter, metrics, audit, autorun: false, conversion });
    try {
      await store.create({ phoneNumber: '+12025557001', ttlSeconds: 120, owner: 'app' });
      const cli = '+12025557001';
      const r = await w.handle({
        v: 1, trunk: 't', source: { address: '127.0.0.1', port: 5060 }, transport: 'udp', callId: randomUUID(), cli, cliOrigin: 'pai',
        cliRaw: cli, did: '+15550106001', didRaw: '+15550106001', verstat: null, identity: null, userAgent: null, rejectCode: 486, receivedAt: Date.now(),
      });
      expect(r.outcome).toBe('verified');
      expect(await redis.get(conversionKeys(PREFIX, conversion, cli, Date.now()).verified[0])).toBe('1');
    } finally {
      await w.close();
      await expiryQueue.close();
    }
  });
});
