import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import { startTestRedis, stopAndClean, workerConnections, type TestRedis } from '../helpers/redis-server.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { RedisVerificationStore } from '../../src/verify/redis-verification-store.js';
import { CallWorker } from '../../src/verify/call-worker.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { createVerifyMetrics } from '../../src/verify/verify-metrics.js';
import { CALLS_QUEUE, EXPIRY_QUEUE, type ExpiryJobData } from '../../src/verify/queue-names.js';
import { DirectFirstEmitter, type WebhookFallback } from '../../src/webhooks/direct-first-emitter.js';
import { WebhookSigner } from '../../src/webhooks/sign.js';
import { createWebhookMetrics } from '../../src/webhooks/webhook-metrics.js';
import { generateWebhookSecret } from '../../src/webhooks/webhook-secret.js';
import { createEgressPolicy } from '../../src/egress/egress-policy.js';
import type { CallEvent } from '../../src/edge/call-event.js';
import { testCallEvent } from '../helpers/call-event.js';
import type { WebhookEvent } from '../../src/verify/verification-types.js';

/**
 * The same Call-ID in two batch jobs (the call through two edges, or a batch an edge re-sent), taken
 * by two workers while the first one's verified webhook is still in flight: exactly one POST reaches
 * the receiver. The emit claim names the delivery (the job), not the Call-ID.
 */
const PREFIX = '{rpdup}';
const DID = '+15550001000';
const CLI = '+12025550142';

let server: TestRedis;
let redis: Redis;
let receiver: WebhookReceiver;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  server = await startTestRedis({ appendonly: false });
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
  // Holds every answer, so the first worker is between its claim and its mark when the second decides.
  receiver = await startWebhookReceiver({ delayMs: 400 });
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await redis.flushall();
  receiver.received.length = 0;
});
afterAll(async () => {
  await receiver.close();
  redis.disconnect();
  await stopAndClean(server);
});

const callEvent = (over: Partial<CallEvent> = {}): CallEvent => testCallEvent(DID, { cli: CLI, cliRaw: CLI, ...over });

/** The daemon's wiring for two worker processes: own connections, direct-first emitters, one Redis. */
async function setup() {
  const queued: WebhookEvent[] = [];
  const fallback: WebhookFallback = {
    async emit(event) { queued.push(event); },
    async emitLater(event) { queued.push(event); },
    async withdraw() { return false; },
  };
  const connections = workerConnections(server.url);
  const conn = (): Redis => connections.open();
  const admin = conn();
  const expiryQueue = new Queue<ExpiryJobData>(EXPIRY_QUEUE, { connection: admin, prefix: PREFIX });
  const calls = new Queue(CALLS_QUEUE, { connection: admin, prefix: PREFIX });
  const audit = (r: Redis): AuditLog => new AuditLog({ redis: r, prefix: PREFIX });
  const store = new RedisVerificationStore({
    redis: admin, prefix: PREFIX, dids: [DID], expiryQueue, metrics: createVerifyMetrics(new Registry()), audit: audit(admin),
  });
  const workers = [0, 1].map(() => {
    const registry = new Registry();
    const c = conn();
    const emitter = new DirectFirstEmitter({
      fallback, signer: new WebhookSigner([generateWebhookSecret()]),
      egressPolicy: createEgressPolicy({ allowPrivateTargets: ['127.0.0.0/8'] }),
      metrics: createWebhookMetrics(registry), version: '9.9.9-test', timeoutMs: 5000,
    });
    const w = new CallWorker({
      connection: c, prefix: PREFIX, emitter, defaultWebhookUrl: receiver.url,
      metrics: createVerifyMetrics(registry), audit: audit(c), concurrency: 1,
    });
    cleanups.push(() => emitter.close());
    return w;
  });
  cleanups.push(async () => {
    for (const w of workers) await w.close();
    await calls.close();
    await expiryQueue.close();
    connections.disconnectAll();
  });
  const finished = (jobId: string): Promise<void> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`job ${jobId} not finished`)), 15_000);
    for (const w of workers) {
      w.worker.on('completed', (job) => { if (job.id === jobId) { clearTimeout(timer); resolve(); } });
      w.worker.on('failed', (job, err) => { if (job?.id === jobId) { clearTimeout(timer); reject(err); } });
    }
  });
  const add = async (jobId: string, events: CallEvent[]): Promise<void> => {
    await calls.add('calls', { v: 1, events }, { jobId, attempts: 1 });
  };
  await Promise.all(workers.map((w) => w.worker.waitUntilReady()));
  return { store, add, finished, queued };
}

describe('one verified webhook when two jobs carry the same Call-ID', () => {
  it('concurrently: two batches taken by two workers at once → one POST', async () => {
    const { store, add, finished, queued } = await setup();
    const { verification: v } = await store.create({ phoneNumber: CLI, ttlSeconds: 60, owner: 'a' });
    const call = callEvent();
    const done = [finished('edge-a-1'), finished('edge-b-1')];
    await Promise.all([
      add('edge-a-1', [callEvent({ cli: '+12025550177' }), call]),
      add('edge-b-1', [call, callEvent({ cli: '+12025550178' })]),
    ]);
    await Promise.all(done);
    expect(receiver.received).toHaveLength(1);
    expect(queued).toHaveLength(0);
    expect(JSON.parse(receiver.received[0]!.body)).toMatchObject({ type: 'verification.verified', data: { verification: { id: v.id } } });
    expect((await store.get(v.id))?.status).toBe('verified');
  });

  it('in sequence: the second batch decided while the first one\'s POST is in flight → one POST', async () => {
    const { store, add, finished, queued } = await setup();
    await store.create({ phoneNumber: CLI, ttlSeconds: 60, owner: 'a' });
    const call = callEvent();
    const first = finished('edge-a-2');
    await add('edge-a-2', [call]);
    await receiver.waitFor(1);
    // The first worker holds the claim and waits for the receiver; the other worker takes the resend.
    const second = finished('edge-b-2');
    await add('edge-b-2', [callEvent({ cli: '+12025550179' }), call]);
    await Promise.all([first, second]);
    expect(receiver.received).toHaveLength(1);
    expect(queued).toHaveLength(0);
  });
});
