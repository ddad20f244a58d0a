import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import { startTestRedis, stopAndClean, workerConnections, type TestRedis } from '../helpers/redis-server.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { RedisVerificationStore } from '../../src/verify/redis-verification-store.js';
import { CallWorker, type CallResult } from '../../src/verify/call-worker.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { createVerifyMetrics } from '../../src/verify/verify-metrics.js';
import { EXPIRY_QUEUE, type ExpiryJobData } from '../../src/verify/queue-names.js';
import { DirectFirstEmitter } from '../../src/webhooks/direct-first-emitter.js';
import { WebhookSigner } from '../../src/webhooks/sign.js';
import { createWebhookMetrics } from '../../src/webhooks/webhook-metrics.js';
import { generateWebhookSecret } from '../../src/webhooks/webhook-secret.js';
import { createEgressPolicy } from '../../src/egress/egress-policy.js';
import { testCallEvent } from '../helpers/call-event.js';
import type { WebhookEmitter } from '../../src/verify/verification-types.js';

/**
 * One batch job run by two workers at once: the first worker POSTed the verified webhook and is
 * held before its "sent" mark (its mark retrying through a Redis failover), while the job's lock
 * lapsed and BullMQ's stalled-job check handed the job to a second worker. Same job, same place in
 * it: before, both held the emit claim and the receiver got two POSTs. Now the claim belongs to one
 * attempt: the second waits for the first's mark, and takes over only from a holder that stopped
 * renewing its claim (a dead worker), so nothing is lost either.
 */
const PREFIX = '{rptake}';
const DID = '+15550001000';
const CLI = '+12025550143';
const SECRET = generateWebhookSecret();

let server: TestRedis;
let receiver: WebhookReceiver;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  server = await startTestRedis({ appendonly: false });
  receiver = await startWebhookReceiver();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  receiver.received.length = 0;
});
afterAll(async () => {
  await receiver.close();
  await stopAndClean(server);
});

/** An emitter that POSTs, then waits for `release` before it resolves (so the worker has not marked yet). */
function heldAfterPost(direct: DirectFirstEmitter): { emitter: WebhookEmitter; release: () => void } {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => { release = r; });
  return { emitter: { async emit(event, url) { await direct.emit(event, url); await gate; } }, release };
}

async function setup(opts: { claimStaleMs?: number } = {}) {
  const connections = workerConnections(server.url);
  const conn = (): Redis => connections.open();
  const admin = conn();
  await admin.flushall();
  const expiryQueue = new Queue<ExpiryJobData>(EXPIRY_QUEUE, { connection: admin, prefix: PREFIX });
  const audit = (r: Redis): AuditLog => new AuditLog({ redis: r, prefix: PREFIX });
  const store = new RedisVerificationStore({
    redis: admin, prefix: PREFIX, dids: [DID], expiryQueue, metrics: createVerifyMetrics(new Registry()), audit: audit(admin),
  });
  const direct = (): DirectFirstEmitter => {
    const d = new DirectFirstEmitter({
      fallback: { async emit() { throw new Error('not queued in this test'); }, async emitLater() { throw new Error('not queued'); }, async withdraw() { return false; } },
      signer: new WebhookSigner([SECRET]), egressPolicy: createEgressPolicy({ allowPrivateTargets: ['127.0.0.0/8'] }),
      metrics: createWebhookMetrics(new Registry()), version: '9.9.9-test', timeoutMs: 5000,
    });
    cleanups.push(() => d.close());
    return d;
  };
  const worker = (emitter: WebhookEmitter, c: Redis): CallWorker => {
    const w = new CallWorker({
      connection: c, prefix: PREFIX, emitter, defaultWebhookUrl: receiver.url, autorun: false,
      metrics: createVerifyMetrics(new Registry()), audit: audit(c),
      ...(opts.claimStaleMs !== undefined ? { claimStaleMs: opts.claimStaleMs } : {}),
    });
    cleanups.push(() => w.close());
    return w;
  };
  const firstConn = conn();
  const held = heldAfterPost(direct());
  const first = worker(held.emitter, firstConn);
  const second = worker(direct(), conn());
  cleanups.push(async () => {
    held.release();
    await expiryQueue.close();
    connections.disconnectAll();
  });
  return { store, first, second, release: held.release, firstConn };
}

describe('the same batch job run by a second worker while the first is between its POST and its mark', () => {
  it('the second waits for the first one\'s mark: one POST, and the session verified once', async () => {
    const { store, first, second, release } = await setup();
    const { verification: v } = await store.create({ phoneNumber: CLI, ttlSeconds: 60, owner: 'a' });
    const call = testCallEvent(DID, { cli: CLI, cliRaw: CLI });
    const firstRun = first.handleBatch([call], 'job-7');
    await receiver.waitFor(1);
    // The stalled job, re-run elsewhere: the same job id, so the same delivery name.
    let secondDone: CallResult[] | undefined;
    const secondRun = second.handleBatch([call], 'job-7').then((r) => { secondDone = r; return r; });
    // Let the second run decide and find the claim taken (it must not POST meanwhile).
    await new Promise((r) => setTimeout(r, 600));
    expect(receiver.received).toHaveLength(1);
    expect(secondDone).toBeUndefined();
    release();
    const [a, b] = await Promise.all([firstRun, secondRun]);
    expect(a[0]).toMatchObject({ outcome: 'verified', emitted: true });
    expect(b[0]).toMatchObject({ outcome: 'duplicate', firstOutcome: 'verified', emitted: false });
    expect(receiver.received).toHaveLength(1);
    expect(JSON.parse(receiver.received[0]!.body)).toMatchObject({ type: 'verification.verified', data: { verification: { id: v.id } } });
    expect((await store.get(v.id))?.status).toBe('verified');
  });

  it('a holder that stops renewing its claim (its worker died): the second takes over and delivers', async () => {
    const { store, first, second, firstConn } = await setup({ claimStaleMs: 400 });
    const { verification: v } = await store.create({ phoneNumber: CLI, ttlSeconds: 60, owner: 'a' });
    const call = testCallEvent(DID, { cli: CLI, cliRaw: CLI });
    void first.handleBatch([call], 'job-8').catch(() => undefined);
    await receiver.waitFor(1);
    // The first worker's connection goes: it can neither renew its claim nor mark.
    firstConn.disconnect();
    const [b] = await second.handleBatch([call], 'job-8');
    expect(b).toMatchObject({ outcome: 'duplicate', firstOutcome: 'verified', emitted: true });
    // At least once: the event again, with the same webhook-id and body.
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1]!.headers['webhook-id']).toBe(receiver.received[0]!.headers['webhook-id']);
    expect(receiver.received[1]!.body).toBe(receiver.received[0]!.body);
    // Marked: a third run of the job does not POST.
    const [c] = await second.handleBatch([call], 'job-8');
    expect(c).toMatchObject({ emitted: false });
    expect(receiver.received).toHaveLength(2);
    expect((await store.get(v.id))?.status).toBe('verified');
  });
});
