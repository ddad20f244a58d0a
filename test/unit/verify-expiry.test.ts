import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';
import { RedisVerificationStore } from '../../src/verify/redis-verification-store.js';
import { ExpiryWorker } from '../../src/verify/expiry-worker.js';
import { CallWorker } from '../../src/verify/call-worker.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { createVerifyMetrics, type VerifyMetrics } from '../../src/verify/verify-metrics.js';
import { EXPIRY_QUEUE, type ExpiryJobData } from '../../src/verify/queue-names.js';
import { webhookEventId } from '../../src/verify/webhook-events.js';
import type { WebhookEmitter, WebhookEvent } from '../../src/verify/verification-types.js';

const PREFIX = '{rpexpiry}';
const DID = '+15550003000';

class CollectingEmitter implements WebhookEmitter {
  readonly sent: { event: WebhookEvent; url: string; at: number }[] = [];
  async emit(event: WebhookEvent, url: string): Promise<void> {
    this.sent.push({ event, url, at: Date.now() });
  }
}

async function until(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

let server: TestRedis;
let redis: Redis;
let expiryQueue: Queue<ExpiryJobData>;
let metrics: VerifyMetrics;
let audit: AuditLog;
let emitter: CollectingEmitter;
let store: RedisVerificationStore;
let worker: ExpiryWorker | undefined;

beforeAll(async () => {
  server = await startTestRedis({ appendonly: false });
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
  expiryQueue = new Queue<ExpiryJobData>(EXPIRY_QUEUE, { connection: redis, prefix: PREFIX });
});

afterAll(async () => {
  await worker?.close();
  await expiryQueue.close();
  redis.disconnect();
  await stopAndClean(server);
});

beforeEach(async () => {
  await worker?.close();
  worker = undefined;
  await redis.flushall();
  metrics = createVerifyMetrics(new Registry());
  audit = new AuditLog({ redis, prefix: PREFIX });
  emitter = new CollectingEmitter();
  // Sub-minimum ttl and a short grace keep the test fast; the API enforces 60–300 s.
  store = new RedisVerificationStore({ redis, prefix: PREFIX, dids: [DID], expiryQueue, metrics, audit, expiryGraceMs: 100 });
});

function startWorker(clock?: () => number): ExpiryWorker {
  worker = new ExpiryWorker({
    connection: redis, prefix: PREFIX, emitter, defaultWebhookUrl: 'http://127.0.0.1:9/default', metrics, audit,
    expiryGraceMs: 100, ...(clock ? { clock } : {}),
  });
  return worker;
}

describe('ExpiryWorker', () => {
  it('the delayed job expires a pending session after its window and emits expired with the SMS fallback', async () => {
    const { verification: v } = await store.create({ phoneNumber: '+447700900500', ttlSeconds: 0.4, owner: 'a', callbackUrl: 'http://127.0.0.1:9/cb' });
    startWorker();
    await until(() => emitter.sent.length === 1);
    const { event, url, at } = emitter.sent[0]!;
    expect(at).toBeGreaterThanOrEqual(Date.parse(v.expiresAt));
    expect(url).toBe('http://127.0.0.1:9/cb');
    expect(event).toMatchObject({
      id: webhookEventId(v.id, 'verification.expired'),
      type: 'verification.expired',
      data: {
        verification: { id: v.id, status: 'expired' },
        fallback: { suggested: 'sms', reason: 'no call received before expiresAt' },
      },
    });
    expect((await store.get(v.id))?.status).toBe('expired');
    expect((await metrics.verificationsExpired.get()).values[0]?.value).toBe(1);
    const types = (await redis.xrange(`${PREFIX}:audit`, '-', '+')).map(([, f]) => f[1]);
    expect(types).toEqual(['session.created', 'session.expired']);

    // A late call for it is classified late and verifies nothing.
    const calls = new CallWorker({ connection: redis, prefix: PREFIX, emitter, metrics, audit, autorun: false });
    const r = await calls.handle({
      v: 1, trunk: 't', source: { address: '127.0.0.1', port: 5060 }, transport: 'udp', callId: 'late-1',
      cli: '+447700900500', cliOrigin: 'pai', cliRaw: null, did: DID, didRaw: null, verstat: null, identity: null,
      userAgent: null, rejectCode: 486, receivedAt: Date.now(),
    });
    await calls.close();
    expect(r).toMatchObject({ outcome: 'late', emitted: false });
    expect(emitter.sent).toHaveLength(1);
  });

  it('is a no-op for a session verified or cancelled before its window closed', async () => {
    const { verification: a } = await store.create({ phoneNumber: '+447700900501', ttlSeconds: 0.2, owner: 'a' });
    const { verification: b } = await store.create({ phoneNumber: '+447700900502', ttlSeconds: 0.2, owner: 'a' });
    await redis.hset(`${PREFIX}:vrf:${a.id}`, 'status', 'verified');
    const w = startWorker();
    expect(await w.handle(b.id)).toMatchObject({ outcome: 'not_yet', expiresAt: Date.parse(b.expiresAt) });
    await store.cancel(b.id);
    await new Promise((r) => setTimeout(r, 600));
    expect(await w.handle(a.id)).toEqual({ outcome: 'terminal', emitted: false });
    expect(await w.handle(b.id)).toEqual({ outcome: 'terminal', emitted: false });
    expect(await w.handle('vrf_unknown')).toEqual({ outcome: 'missing', emitted: false });
    expect((await store.get(a.id))?.status).toBe('verified');
    expect((await store.get(b.id))?.status).toBe('cancelled');
    expect(emitter.sent).toHaveLength(0);
    expect((await metrics.verificationsExpired.get()).values[0]?.value ?? 0).toBe(0);
  });

  it('a job that runs early (clock skew) is put back and fires after expiresAt', async () => {
    const { verification: v } = await store.create({ phoneNumber: '+447700900503', ttlSeconds: 0.5, owner: 'a' });
    await expiryQueue.remove(`exp_${v.id}`);
    startWorker();
    await expiryQueue.add('expire', { id: v.id }, { jobId: `early_${v.id}` });
    await until(() => emitter.sent.length === 1);
    expect(emitter.sent[0]!.at).toBeGreaterThanOrEqual(Date.parse(v.expiresAt));
    expect((await store.get(v.id))?.status).toBe('expired');
  });

  it('crash after the transition, before the webhook: the retry emits, and only once', async () => {
    const { verification: v } = await store.create({ phoneNumber: '+447700900504', ttlSeconds: 60, owner: 'a' });
    // What the dead worker got done: the status change only.
    await redis.hset(`${PREFIX}:vrf:${v.id}`, 'status', 'expired', 'expiredAt', String(Date.now()));
    const w = startWorker();
    expect(await w.handle(v.id)).toEqual({ outcome: 'already', emitted: true });
    expect(await w.handle(v.id)).toEqual({ outcome: 'already', emitted: false });
    expect(emitter.sent.map((s) => s.event.type)).toEqual(['verification.expired']);
    expect(emitter.sent[0]!.url).toBe('http://127.0.0.1:9/default');
  });
});
