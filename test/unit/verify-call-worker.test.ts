import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';
import { RedisVerificationStore } from '../../src/verify/redis-verification-store.js';
import { CallWorker } from '../../src/verify/call-worker.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { createVerifyMetrics, type VerifyMetrics } from '../../src/verify/verify-metrics.js';
import { CALLS_QUEUE, EXPIRY_QUEUE, type ExpiryJobData } from '../../src/verify/queue-names.js';
import { sha1Hex, verifyKeys } from '../../src/verify/verify-keys.js';
import { decideCalls } from '../../src/verify/decide-calls.js';
import { claimToken, claimTokenPrefix } from '../../src/verify/scripts/process-calls.js';
import { CALL_EMIT_LEASE_MS } from '../../src/verify/emit-claim-liveness.js';
import { markNotified } from '../../src/verify/emit-once.js';
import { webhookEventId } from '../../src/verify/webhook-events.js';
import { UnmarkedEmits } from '../../src/verify/unmarked-emits.js';
import type { CallEvent } from '../../src/edge/call-event.js';
import { testCallEvent } from '../helpers/call-event.js';
import type { CallerTrustPolicy } from '../../src/trust/caller-trust-types.js';
import type { CallerTrustVerdict, CallerTrustVerifier, StirShakenInput } from '../../src/trust/stir-shaken-types.js';
import { createIdentityVerifier } from '../../src/trust/identity-verifier-setup.js';
import { DEFAULT_CALLER_TRUST_POLICY } from '../../src/trust/caller-trust-policy.js';
import { createCallerTrustMetrics } from '../../src/trust/caller-trust-metrics.js';
import { defaultConfig } from '../../src/config/defaults.js';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { WebhookEmitter, WebhookEvent } from '../../src/verify/verification-types.js';

const PREFIX = '{rpcall}';
const DID = '+15550001000';
const OTHER_DID = '+15550001001';
const DEFAULT_URL = 'http://127.0.0.1:9/default';

/** Our own seam: collects what would go to the webhook queue. Can be told to fail the next N emits. */
class CollectingEmitter implements WebhookEmitter {
  readonly sent: { event: WebhookEvent; url: string }[] = [];
  failNext = 0;
  async emit(event: WebhookEvent, url: string): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('webhook queue unavailable');
    }
    this.sent.push({ event, url });
  }
}

const callEvent = (over: Partial<CallEvent> = {}): CallEvent => testCallEvent(DID, over);

let server: TestRedis;
let redis: Redis;
let expiryQueue: Queue<ExpiryJobData>;
let callsQueue: Queue<CallEvent>;
let store: RedisVerificationStore;
let emitter: CollectingEmitter;
let metrics: VerifyMetrics;
let worker: CallWorker;

beforeAll(async () => {
  server = await startTestRedis({ appendonly: false });
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
  expiryQueue = new Queue<ExpiryJobData>(EXPIRY_QUEUE, { connection: redis, prefix: PREFIX });
  callsQueue = new Queue<CallEvent>(CALLS_QUEUE, { connection: redis, prefix: PREFIX });
});

afterAll(async () => {
  await worker?.close();
  await callsQueue.close();
  await expiryQueue.close();
  redis.disconnect();
  await stopAndClean(server);
});

beforeEach(async () => {
  await worker?.close();
  await redis.flushall();
  metrics = createVerifyMetrics(new Registry());
  // Every unsolicited call written to the noise trail (the default samples one in ten).
  const audit = new AuditLog({ redis, prefix: PREFIX, settings: { noiseSampleEvery: 1 } });
  store = new RedisVerificationStore({ redis, prefix: PREFIX, dids: [DID], expiryQueue, metrics, audit });
  emitter = new CollectingEmitter();
  worker = new CallWorker({
    connection: redis, prefix: PREFIX, emitter, defaultWebhookUrl: DEFAULT_URL, metrics, audit, concurrency: 4,
    // A dead attempt's claim is taken over once seen unrenewed this long (5 s in the daemon).
    claimStaleMs: 200,
  });
});

/**
 * Adds one bare CallEvent as a job (the form older producers wrote; the worker answers it with its
 * CallResult) and waits for the worker to finish it. Completed call jobs are not retained, so the
 * result is taken from the worker's events.
 */
async function viaQueue(ev: CallEvent, jobId = sha1Hex(ev.callId), attempts = 1): Promise<unknown> {
  const w = worker.worker;
  const done = new Promise<unknown>((resolve) => {
    const onCompleted = (job: { id?: string }, result: unknown): void => {
      if (job.id !== jobId) return;
      off();
      resolve(result);
    };
    const onFailed = (job: { id?: string; attemptsMade: number; failedReason: string } | undefined): void => {
      if (job?.id !== jobId || job.attemptsMade < attempts) return;
      off();
      resolve({ failed: job.failedReason });
    };
    const off = (): void => { w.off('completed', onCompleted); w.off('failed', onFailed); };
    w.on('completed', onCompleted);
    w.on('failed', onFailed);
  });
  await callsQueue.add('call', ev, { jobId, attempts, backoff: { type: 'fixed', delay: 20 } });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`job ${jobId} not finished`)), 10_000); });
  try {
    return await Promise.race([done, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function outcomeCount(outcome: string): Promise<number> {
  const m = await metrics.callOutcomes.get();
  return m.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

describe('CallWorker', () => {
  it('a matching call verifies the session and emits one verified webhook to its callbackUrl', async () => {
    const { verification: v } = await store.create({
      phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a', callbackUrl: 'http://127.0.0.1:9/cb',
    });
    const ev = callEvent();
    const result = await viaQueue(ev);
    expect(result).toMatchObject({ outcome: 'verified', sessionId: v.id, emitted: true });
    const after = await store.get(v.id);
    expect(after).toMatchObject({ status: 'verified', callId: ev.callId, callReceivedAt: ev.receivedAt });
    expect(Date.parse(after!.verifiedAt!)).toBeGreaterThanOrEqual(Math.floor(ev.receivedAt));
    expect(emitter.sent).toHaveLength(1);
    const { event, url } = emitter.sent[0]!;
    expect(url).toBe('http://127.0.0.1:9/cb');
    expect(event).toMatchObject({
      id: webhookEventId(v.id, 'verification.verified'), type: 'verification.verified',
      timestamp: after!.verifiedAt, data: { verification: { id: v.id, status: 'verified', callId: ev.callId } },
    });
    expect(event.id).toMatch(/^evt_[0-9a-f]{40}$/);
    expect(await outcomeCount('verified')).toBe(1);
    const hist = await metrics.inviteToVerified.get();
    expect(hist.values.find((x) => x.metricName === 'ringproof_invite_to_verified_seconds_count')?.value).toBe(1);
  });

  it('uses webhooks.defaultUrl when the session has no callbackUrl', async () => {
    await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    expect(await worker.handle(callEvent())).toMatchObject({ outcome: 'verified', emitted: true });
    expect(emitter.sent.map((s) => s.url)).toEqual([DEFAULT_URL]);
  });

  it('wrong CLI, wrong DID, withheld, invalid, before the session, after expiry: nothing is verified', async () => {
    const { verification: v } = await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    const created = Date.parse(v.createdAt);
    const cases: [Partial<CallEvent>, string, string | undefined][] = [
      [{ cli: '+447700900002' }, 'unsolicited', 'no_session'],
      [{ did: OTHER_DID }, 'unsolicited', 'no_session'],
      [{ cli: null, cliRaw: null, cliOrigin: 'withheld' }, 'withheld', undefined],
      [{ cli: null, cliRaw: 'anonymous', cliOrigin: 'from' }, 'invalid', undefined],
      [{ did: null }, 'invalid', undefined],
      [{ receivedAt: created - 5000 }, 'unsolicited', 'call_before_session'],
      [{ receivedAt: Date.parse(v.expiresAt) + 1 }, 'late', 'after_expiry'],
    ];
    for (const [over, outcome, detail] of cases) {
      const r = await viaQueue(callEvent(over));
      expect(r, JSON.stringify(over)).toMatchObject({ outcome, emitted: false });
      expect((r as { detail?: string }).detail).toBe(detail);
    }
    expect((await store.get(v.id))?.status).toBe('pending');
    expect(emitter.sent).toHaveLength(0);
    expect(await outcomeCount('unsolicited')).toBe(3);
    expect(await outcomeCount('withheld')).toBe(1);
    expect(await outcomeCount('invalid')).toBe(2);
    expect(await outcomeCount('late')).toBe(1);
    // Within the skew allowance a call stamped slightly before createdAt (other node's clock) still verifies.
    expect(await worker.handle(callEvent({ receivedAt: created - 500 }))).toMatchObject({ outcome: 'verified' });
  });

  it('an expired or cancelled session is not verified (late / unsolicited)', async () => {
    const { verification: a } = await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    await redis.hset(`${PREFIX}:vrf:${a.id}`, 'status', 'expired');
    expect(await worker.handle(callEvent())).toMatchObject({ outcome: 'late', detail: 'expired' });
    const { verification: b } = await store.create({ phoneNumber: '+447700900003', ttlSeconds: 60, owner: 'a' });
    await store.cancel(b.id);
    expect(await worker.handle(callEvent({ cli: '+447700900003' }))).toMatchObject({ outcome: 'unsolicited', detail: 'cancelled' });
    expect(emitter.sent).toHaveLength(0);
  });

  it('a call to the DID of a superseded session does not verify the new one', async () => {
    const { verification: old } = await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    // Same single-DID pool, so the newer session shares the DID: the match key moves to it.
    const { verification: fresh } = await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    expect(await worker.handle(callEvent())).toMatchObject({ outcome: 'verified', sessionId: fresh.id });
    expect((await store.get(old.id))?.status).toBe('cancelled');
  });

  it('the same CallEvent processed twice verifies once and emits once', async () => {
    const { verification: v } = await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    const ev = callEvent();
    expect(await viaQueue(ev)).toMatchObject({ outcome: 'verified', emitted: true });
    // Replayed from a spool after the first job was removed: a new job, same Call-ID.
    expect(await viaQueue(ev, 'replay-' + sha1Hex(ev.callId))).toMatchObject({
      outcome: 'duplicate', firstOutcome: 'verified', sessionId: v.id, emitted: false,
    });
    expect(await worker.handle(ev)).toMatchObject({ outcome: 'duplicate', emitted: false });
    // A second, different call from the same user (redial) after verification: no second webhook.
    expect(await worker.handle(callEvent())).toMatchObject({ outcome: 'duplicate', detail: 'already_verified', emitted: false });
    expect(emitter.sent).toHaveLength(1);
    expect(await outcomeCount('verified')).toBe(1);
    expect(await outcomeCount('duplicate')).toBe(3);
  });

  it('a non-verifying outcome is decided once per Call-ID too', async () => {
    const ev = callEvent({ cli: '+447700900099' });
    expect(await worker.handle(ev)).toMatchObject({ outcome: 'unsolicited' });
    // A session created afterwards is not verified by the old call replayed.
    await store.create({ phoneNumber: '+447700900099', ttlSeconds: 60, owner: 'a' });
    expect(await worker.handle(ev)).toMatchObject({ outcome: 'duplicate', firstOutcome: 'unsolicited' });
  });

  it('crash safety: emit fails → the retried job still emits, exactly once', async () => {
    const { verification: v } = await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    emitter.failNext = 2;
    const r = await viaQueue(callEvent(), undefined, 5);
    expect(r).toMatchObject({ outcome: 'duplicate', firstOutcome: 'verified', emitted: true });
    expect(emitter.sent).toHaveLength(1);
    expect(emitter.sent[0]!.event.id).toBe(webhookEventId(v.id, 'verification.verified'));
    expect(await outcomeCount('verified')).toBe(1);
  });

  it('crash safety: the worker died after the script verified, before emitting → the retry takes its claim over and emits', async () => {
    const { verification: v } = await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    const ev = callEvent();
    const keys = verifyKeys(PREFIX);
    // What the dead worker got done: the atomic decision (with its audit entries and the emit claim) only.
    await decideCalls(redis, [ev], { keys, delivery: 'job-1', attempt: 'dead.1', audit: new AuditLog({ redis, prefix: PREFIX }), now: Date.now() });
    expect((await store.get(v.id))?.status).toBe('verified');
    expect(await worker.handle(ev, 'job-1')).toMatchObject({ outcome: 'duplicate', firstOutcome: 'verified', emitted: true });
    expect(await worker.handle(ev, 'job-1')).toMatchObject({ outcome: 'duplicate', emitted: false });
    expect(emitter.sent).toHaveLength(1);
    // The dedupe record gone (its window passed) but the session names this Call-ID: still no second verification.
    const buckets = await redis.keys(`${PREFIX}:dd:*`);
    expect(buckets.length).toBeGreaterThan(0);
    await redis.del(...buckets);
    expect(await worker.handle(ev)).toMatchObject({ outcome: 'duplicate', firstOutcome: 'verified', emitted: false });
    expect(emitter.sent).toHaveLength(1);
  });

  it('crash safety: Redis died between the emit claim and the emit → the retry takes the unrenewed claim over and emits', async () => {
    const { verification: v } = await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    const ev = callEvent();
    const keys = verifyKeys(PREFIX);
    await decideCalls(redis, [ev], { keys, delivery: 'job-1', attempt: 'dead.2', audit: new AuditLog({ redis, prefix: PREFIX }), now: Date.now() });
    // The dead attempt's claim is still leased (the release never reached Redis).
    expect(await redis.get(keys.emitClaimKey(v.id, 'verified'))).toBe(claimToken(claimTokenPrefix('job-1', 'dead.2', 0), 0));
    expect(await worker.handle(ev, 'job-1')).toMatchObject({ outcome: 'duplicate', firstOutcome: 'verified', emitted: true });
    expect(emitter.sent).toHaveLength(1);
    expect(emitter.sent[0]!.event.id).toBe(webhookEventId(v.id, 'verification.verified'));
  });

  it('crash safety: Redis failed after the webhook was handed over, before mark-notified → the retry marks without a second POST', async () => {
    const { verification: v } = await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    // The scripts' own connection, failing fast, so the mark after emit() fails like a dead Redis.
    const scripts = new Redis(server.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true });
    await scripts.connect();
    const audit = new AuditLog({ redis, prefix: PREFIX });
    const sent: WebhookEvent[] = [];
    const unmarked = new UnmarkedEmits();
    const direct: WebhookEmitter = {
      async emit(event) {
        sent.push(event); // the receiver got it (a direct POST answered 2xx; DirectFirstEmitter's onDelivered) ...
        unmarked.add(event.id);
        scripts.disconnect(); // ... and then Redis went away
      },
    };
    const w = new CallWorker({
      connection: redis, redis: scripts, prefix: PREFIX, emitter: direct, unmarked, defaultWebhookUrl: DEFAULT_URL, metrics, audit, autorun: false,
    });
    try {
      const ev = callEvent();
      await expect(w.handle(ev)).rejects.toThrow();
      expect(sent).toHaveLength(1);
      expect(await redis.hget(`${PREFIX}:vrf:${v.id}`, 'notified')).toBeNull();
      if (scripts.status !== 'end') await new Promise((r) => scripts.once('end', r));
      await scripts.connect();
      expect(await w.handle(ev)).toMatchObject({ outcome: 'duplicate', firstOutcome: 'verified', emitted: true });
      expect(sent).toHaveLength(1);
      expect(await redis.hget(`${PREFIX}:vrf:${v.id}`, 'notified')).toBe('verified');
      // Marked: a later redelivery neither emits nor marks again.
      expect(await w.handle(ev)).toMatchObject({ outcome: 'duplicate', emitted: false });
      expect(sent).toHaveLength(1);
      expect(unmarked.size).toBe(0);
    } finally {
      await w.close();
      scripts.disconnect();
    }
  });

  it('crash safety: a queue add whose mark failed is added again on retry (Redis may have lost it)', async () => {
    await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    const scripts = new Redis(server.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true });
    await scripts.connect();
    const audit = new AuditLog({ redis, prefix: PREFIX });
    const sent: WebhookEvent[] = [];
    const queued: WebhookEmitter = {
      async emit(event) {
        sent.push(event); // the queue acknowledged the add ...
        if (sent.length === 1) scripts.disconnect(); // ... and then Redis went away
      },
    };
    const w = new CallWorker({
      connection: redis, redis: scripts, prefix: PREFIX, emitter: queued, defaultWebhookUrl: DEFAULT_URL, metrics, audit, autorun: false,
    });
    try {
      const ev = callEvent();
      await expect(w.handle(ev)).rejects.toThrow();
      if (scripts.status !== 'end') await new Promise((r) => scripts.once('end', r));
      await scripts.connect();
      expect(await w.handle(ev)).toMatchObject({ outcome: 'duplicate', firstOutcome: 'verified', emitted: true });
      expect(sent.map((e) => e.id)).toEqual([sent[0]!.id, sent[0]!.id]);
    } finally {
      await w.close();
      scripts.disconnect();
    }
  });

  it('the same Call-ID in another job while the first holds the emit claim and died: the other job takes the unrenewed claim over and emits, once', async () => {
    const { verification: v } = await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    const ev = callEvent();
    // Job A (edge 1) decided and claimed, then its worker died before emitting.
    await decideCalls(redis, [ev], { keys: verifyKeys(PREFIX), delivery: 'edge-1-batch', attempt: 'dead.3', audit: new AuditLog({ redis, prefix: PREFIX }), now: Date.now() });
    // Job B (the same call through edge 2, or a re-sent batch with other calls) finds A's claim,
    // waits until it is plainly not renewed, and sends the webhook itself.
    expect((await worker.handleBatch([callEvent({ cli: '+447700900777' }), ev], 'edge-2-batch'))[1])
      .toMatchObject({ outcome: 'duplicate', firstOutcome: 'verified', sessionId: v.id, emitted: true });
    // A's retry after the stall finds the webhook marked sent.
    expect(await worker.handle(ev, 'edge-1-batch')).toMatchObject({ outcome: 'duplicate', emitted: false });
    expect(await worker.handle(ev, 'edge-2-batch')).toMatchObject({ outcome: 'duplicate', emitted: false });
    expect(emitter.sent).toHaveLength(1);
  });

  it('a Call-ID twice in one batch emits once', async () => {
    await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    const ev = callEvent();
    const r = await worker.handleBatch([ev, ev]);
    expect(r.map((x) => [x.outcome, x.emitted])).toEqual([['verified', true], ['duplicate', false]]);
    expect(emitter.sent).toHaveLength(1);
  });

  it('an emit claim held and renewed by another attempt is respected: the worker waits for its mark (no second webhook)', async () => {
    const { verification: v } = await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    const ev = callEvent();
    const keys = verifyKeys(PREFIX);
    const claimKey = keys.emitClaimKey(v.id, 'verified');
    await redis.set(claimKey, 'job:other:x.1:0:0', 'PX', CALL_EMIT_LEASE_MS);
    // The live holder renews its claim (as ClaimRenewal does) while its webhook is in flight.
    const renew = setInterval(() => { void redis.pexpire(claimKey, CALL_EMIT_LEASE_MS); }, 100);
    try {
      let done = false;
      const handled = worker.handle(ev).finally(() => { done = true; });
      // Several of this worker's 200 ms stale windows pass: it must not take a renewed claim.
      await new Promise((r) => setTimeout(r, 1000));
      expect(done).toBe(false);
      expect(emitter.sent).toHaveLength(0);
      // The holder marks its webhook sent: the waiting worker completes without emitting.
      await markNotified(redis, keys, v.id, 'verified');
      expect(await handled).toMatchObject({ outcome: 'verified', emitted: false });
      expect(emitter.sent).toHaveLength(0);
    } finally {
      clearInterval(renew);
    }
  });

  it('a malformed job is answered invalid without throwing', async () => {
    const r = await viaQueue({ hello: 'world' } as unknown as CallEvent, 'malformed-1');
    expect(r).toMatchObject({ outcome: 'invalid', detail: 'malformed_event' });
  });

  it('a redelivered call is audited as a duplicate of its first decision, with one session.verified entry', async () => {
    const { verification: v } = await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    const ev = callEvent();
    expect(await worker.handle(ev)).toMatchObject({ outcome: 'verified', emitted: true });
    expect(await worker.handle(ev)).toMatchObject({ outcome: 'duplicate', firstOutcome: 'verified', emitted: false });
    const entries = (await redis.xrange(`${PREFIX}:audit`, '-', '+')).map(([, f]) => ({ type: f[1], data: JSON.parse(f[5]!) }));
    const calls = entries.filter((e) => e.type === 'call' && e.data.callId === ev.callId);
    expect(calls.map((e) => [e.data.outcome, e.data.firstOutcome, e.data.sessionId])).toEqual([
      ['verified', undefined, v.id], ['duplicate', 'verified', v.id],
    ]);
    expect(calls[0]!.data).toMatchObject({ receivedAt: ev.receivedAt, cli: ev.cli, did: ev.did });
    expect(entries.filter((e) => e.type === 'session.verified' && e.data.id === v.id).map((e) => e.data))
      .toEqual([{ id: v.id, callId: ev.callId, callReceivedAt: ev.receivedAt }]);
    // The claim was dropped once the webhook was handed over.
    expect(await redis.exists(verifyKeys(PREFIX).emitClaimKey(v.id, 'verified'))).toBe(0);
  });

  it('audits every call with its full numbers and outcome', async () => {
    const { verification: v } = await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    const ev = callEvent();
    await worker.handle(ev);
    await worker.handle(callEvent({ cli: '+447700900777' }));
    const read = async (key: string): Promise<{ type: string | undefined; data: Record<string, unknown> }[]> =>
      (await redis.xrange(key, '-', '+')).map(([, f]) => ({ type: f[1], data: JSON.parse(f[5]!) as Record<string, unknown> }));
    // The call that concerns a session is evidence; the unsolicited one is noise, in its own trail.
    const entries = await read(`${PREFIX}:audit`);
    const calls = entries.filter((e) => e.type === 'call');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.data).toMatchObject({ callId: ev.callId, cli: '+447700900001', did: DID, outcome: 'verified', sessionId: v.id });
    expect(entries.some((e) => e.type === 'session.verified' && e.data.id === v.id)).toBe(true);
    const noise = await read(`${PREFIX}:audit:calls`);
    expect(noise.map((e) => e.data)).toEqual([expect.objectContaining({ cli: '+447700900777', outcome: 'unsolicited', detail: 'no_session' })]);
  });
});

describe('CallWorker caller trust (the edge verdict `trust`, the `trust` policy)', () => {
  /** A second worker on the same Redis with another policy; handle() only, never takes jobs. */
  async function withPolicy<T>(trust: CallerTrustPolicy, run: (w: CallWorker, refused: string[]) => Promise<T>): Promise<T> {
    const refused: string[] = [];
    const w = new CallWorker({
      connection: redis, prefix: PREFIX, emitter, defaultWebhookUrl: DEFAULT_URL, metrics,
      audit: new AuditLog({ redis, prefix: PREFIX }), autorun: false, trust, onTrustRefusal: (r) => refused.push(r),
    });
    try {
      return await run(w, refused);
    } finally {
      await w.close();
    }
  }

  it('TN-Validation-Failed never verifies by default: rejected with caller_id_failed, the session stays open to the genuine call', async () => {
    const { verification: v } = await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    const spoofed = callEvent({ verstat: 'TN-Validation-Failed', trust: 'failed' });
    expect(await viaQueue(spoofed)).toMatchObject({ outcome: 'rejected', detail: 'caller_id_failed', sessionId: v.id, emitted: false });
    // Redelivery: the decision stands, nothing is verified by a retry.
    expect(await worker.handle(spoofed)).toMatchObject({ outcome: 'duplicate', firstOutcome: 'rejected', detail: 'caller_id_failed' });
    const pending = await store.get(v.id);
    expect(pending).toMatchObject({ status: 'pending', lastRejection: { reason: 'caller_id_failed' } });
    expect(Date.parse(pending!.lastRejection!.at)).toBeGreaterThanOrEqual(Math.floor(spoofed.receivedAt));
    expect(pending!.callId).toBeUndefined();
    expect(emitter.sent).toHaveLength(0);
    expect(await outcomeCount('rejected')).toBe(1);

    const genuine = callEvent({ verstat: 'TN-Validation-Passed-A', trust: 'passed-A' });
    expect(await worker.handle(genuine)).toMatchObject({ outcome: 'verified', sessionId: v.id, emitted: true });
    const after = await store.get(v.id);
    expect(after).toMatchObject({
      status: 'verified', callId: genuine.callId, callerTrust: { result: 'pass', verstat: 'passed-A', attest: 'A' },
      lastRejection: { reason: 'caller_id_failed' },
    });
    expect(emitter.sent[0]!.event.data.verification).toMatchObject({ callerTrust: { verstat: 'passed-A' }, lastRejection: { reason: 'caller_id_failed' } });
    const audit = (await redis.xrange(`${PREFIX}:audit`, '-', '+')).map(([, f]) => JSON.parse(f[5]!) as Record<string, unknown>);
    expect(audit.find((d) => d.callId === spoofed.callId)).toMatchObject({ trust: 'failed', outcome: 'rejected', detail: 'caller_id_failed' });
  });

  it('a call that matches nothing is unsolicited whatever its verstat; a call with no verstat verifies by default', async () => {
    const { verification: v } = await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    expect(await worker.handle(callEvent({ cli: '+447700900777', verstat: 'TN-Validation-Failed', trust: 'failed' })))
      .toMatchObject({ outcome: 'unsolicited', detail: 'no_session' });
    expect(await worker.handle(callEvent({ trust: 'absent' }))).toMatchObject({ outcome: 'verified', sessionId: v.id });
    expect(await store.get(v.id)).toMatchObject({ callerTrust: { result: 'none', verstat: 'absent', attest: null } });
    expect((await store.get(v.id))!.lastRejection).toBeUndefined();
  });

  it('an event from an edge without the trust field is judged by its verstat', async () => {
    await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    const legacy = callEvent({ verstat: 'tn-validation-failed' });
    delete legacy.trust;
    expect(await worker.handle(legacy)).toMatchObject({ outcome: 'rejected', detail: 'caller_id_failed' });
  });

  it('failed: accept lets a failed caller ID verify, and the verdict says it failed', async () => {
    const { verification: v } = await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    await withPolicy({ failed: 'accept', minAttestation: 'none', requireNetworkAsserted: false }, async (w, refused) => {
      expect(await w.handle(callEvent({ verstat: 'TN-Validation-Failed', trust: 'failed' }))).toMatchObject({ outcome: 'verified' });
      expect(refused).toEqual([]);
    });
    expect(await store.get(v.id)).toMatchObject({ status: 'verified', callerTrust: { result: 'fail', verstat: 'failed' } });
  });

  it('minAttestation B: No-TN-Validation, absent and Passed-C are rejected with caller_id_attestation_low; Passed-B verifies', async () => {
    const { verification: v } = await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    await withPolicy({ failed: 'reject', minAttestation: 'B', requireNetworkAsserted: false }, async (w, refused) => {
      for (const trust of ['no-validation', 'absent', 'passed-C', 'passed'] as const) {
        expect(await w.handle(callEvent({ trust })), trust).toMatchObject({ outcome: 'rejected', detail: 'caller_id_attestation_low' });
      }
      expect(await w.handle(callEvent({ trust: 'failed' }))).toMatchObject({ outcome: 'rejected', detail: 'caller_id_failed' });
      expect(refused).toEqual([
        'caller_id_attestation_low', 'caller_id_attestation_low', 'caller_id_attestation_low', 'caller_id_attestation_low', 'caller_id_failed',
      ]);
      expect(await store.get(v.id)).toMatchObject({ status: 'pending', lastRejection: { reason: 'caller_id_failed' } });
      expect(await w.handle(callEvent({ trust: 'passed-B' }))).toMatchObject({ outcome: 'verified', sessionId: v.id });
    });
  });

  it('requireNetworkAsserted: a CLI from From alone is rejected with caller_id_not_asserted; from PAI or RPID it verifies', async () => {
    const { verification: v } = await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    await withPolicy({ failed: 'reject', minAttestation: 'none', requireNetworkAsserted: true }, async (w, refused) => {
      expect(await w.handle(callEvent({ cliOrigin: 'from', trust: 'passed-A' }))).toMatchObject({ outcome: 'rejected', detail: 'caller_id_not_asserted' });
      expect(refused).toEqual(['caller_id_not_asserted']);
      expect(await store.get(v.id)).toMatchObject({ status: 'pending', lastRejection: { reason: 'caller_id_not_asserted' } });
      expect(await w.handle(callEvent({ cliOrigin: 'rpid' }))).toMatchObject({ outcome: 'verified', sessionId: v.id });
    });
    expect((await store.get(v.id))!.callerTrust).toEqual({ result: 'none', verstat: 'absent', attest: null, cliSource: 'rpid', networkAsserted: true });
  });

  it('a session\'s own callerTrustPolicy decides its calls, in the same batch as sessions that follow the deployment\'s', async () => {
    const own = (phoneNumber: string, trustPolicy: CallerTrustPolicy) => store.create({ phoneNumber, ttlSeconds: 60, owner: 'a', trustPolicy });
    const { verification: strict } = await own('+447700900001', { failed: 'reject', minAttestation: 'B', requireNetworkAsserted: false });
    const { verification: fromOnly } = await own('+447700900002', { failed: 'reject', minAttestation: 'none', requireNetworkAsserted: true });
    const { verification: loose } = await own('+447700900003', { failed: 'accept', minAttestation: 'none', requireNetworkAsserted: false });
    const { verification: plain } = await store.create({ phoneNumber: '+447700900004', ttlSeconds: 60, owner: 'a' });
    expect(strict.callerTrustPolicy).toEqual({ failed: 'reject', minAttestation: 'B', requireNetworkAsserted: false });
    expect(plain.callerTrustPolicy).toBeUndefined();
    const refused: string[] = [];
    const w = new CallWorker({
      connection: redis, prefix: PREFIX, emitter, defaultWebhookUrl: DEFAULT_URL, metrics, audit: new AuditLog({ redis, prefix: PREFIX }),
      autorun: false, onTrustRefusal: (r) => refused.push(r),
    });
    try {
      // One batch: the same verdict (Passed-C from PAI) verifies the plain session and is refused by the strict one.
      const first = await w.handleBatch([
        callEvent({ cli: strict.phoneNumber, trust: 'passed-C' }),
        callEvent({ cli: fromOnly.phoneNumber, trust: 'passed-C', cliOrigin: 'from' }),
        callEvent({ cli: loose.phoneNumber, trust: 'failed' }),
        callEvent({ cli: plain.phoneNumber, trust: 'passed-C' }),
      ]);
      expect(first.map((r) => [r.outcome, r.detail])).toEqual([
        ['rejected', 'caller_id_attestation_low'], ['rejected', 'caller_id_not_asserted'], ['verified', undefined], ['verified', undefined],
      ]);
      expect(refused).toEqual(['caller_id_attestation_low', 'caller_id_not_asserted']);
      // The deployment's default refuses a failed caller ID; the loose session (trust.perVerification any) took it.
      expect(await store.get(loose.id)).toMatchObject({ status: 'verified', callerTrust: { result: 'fail', verstat: 'failed' } });
      expect(await w.handle(callEvent({ cli: strict.phoneNumber, trust: 'passed-B' }))).toMatchObject({ outcome: 'verified', sessionId: strict.id });
      expect(await w.handle(callEvent({ cli: fromOnly.phoneNumber, trust: 'passed-C' }))).toMatchObject({ outcome: 'verified', sessionId: fromOnly.id });
      expect(await store.get(strict.id)).toMatchObject({ callerTrustPolicy: { minAttestation: 'B' }, callerTrust: { attest: 'B' } });
    } finally {
      await w.close();
    }
  });

  it('a session policy number this version does not know falls back to the deployment\'s policy', async () => {
    const { verification: v } = await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    await redis.hset(verifyKeys(PREFIX).sessionKey(v.id), 'trustPolicy', '99');
    expect((await store.get(v.id))!.callerTrustPolicy).toBeUndefined();
    expect(await worker.handle(callEvent({ trust: 'failed' }))).toMatchObject({ outcome: 'rejected', detail: 'caller_id_failed' });
    expect(await worker.handle(callEvent({ trust: 'no-validation' }))).toMatchObject({ outcome: 'verified', sessionId: v.id });
  });

  it('a rejected call after expiry is late, not rejected', async () => {
    const { verification: v } = await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
    const after = Date.parse(v.expiresAt) + 1;
    expect(await worker.handle(callEvent({ trust: 'failed', receivedAt: after }))).toMatchObject({ outcome: 'late', detail: 'after_expiry' });
    expect((await store.get(v.id))!.lastRejection).toBeUndefined();
  });
});

describe('CallWorker Identity verification (trust.identity)', () => {
  /** Our own seam, counting what the worker asks; the real verifier is tested in trust-stir-shaken and the e2e test. */
  class CountingVerifier implements CallerTrustVerifier {
    readonly asked: string[] = [];
    constructor(private readonly verdict: Partial<CallerTrustVerdict>) {}
    async verify(input: StirShakenInput): Promise<CallerTrustVerdict> {
      this.asked.push(input.callId);
      return {
        v: 1, result: 'fail', verstat: 'absent', attest: null, verifies: false, outcome: 'caller_id_failed', identity: 'invalid', networkAsserted: false,
        origid: null, certificate: null, failure: null, ...this.verdict,
      };
    }
  }

  async function withVerifier(v: CountingVerifier, run: (w: CallWorker) => Promise<void>): Promise<void> {
    const w = new CallWorker({
      connection: redis, prefix: PREFIX, emitter, defaultWebhookUrl: DEFAULT_URL, metrics, audit: new AuditLog({ redis, prefix: PREFIX }),
      autorun: false, identity: v,
    });
    try {
      await run(w);
    } finally {
      await w.close();
    }
  }

  it('asks only for calls with an Identity header that match a pending session; its refusal decides', async () => {
    const v = new CountingVerifier({});
    await withVerifier(v, async (w) => {
      const { verification: s } = await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
      // No session for this CLI, no Identity, withheld: the verifier is never asked (a flood pays nothing).
      expect(await w.handle(callEvent({ cli: '+447700900777', identity: 'a.b.c' }))).toMatchObject({ outcome: 'unsolicited' });
      expect(await w.handle(callEvent({ cli: null, cliOrigin: 'withheld', identity: 'a.b.c' }))).toMatchObject({ outcome: 'withheld' });
      expect(v.asked).toEqual([]);
      const spoof = callEvent({ identity: 'a.b.c' });
      expect(await w.handle(spoof)).toMatchObject({ outcome: 'rejected', detail: 'caller_id_failed', sessionId: s.id });
      expect(v.asked).toEqual([spoof.callId]);
      // No Identity header: the verstat-only decision, without asking.
      expect(await w.handle(callEvent())).toMatchObject({ outcome: 'verified', sessionId: s.id });
      expect(v.asked).toHaveLength(1);
      // The session is no longer pending: not a candidate any more.
      await w.handle(callEvent({ identity: 'a.b.c' }));
      expect(v.asked).toHaveLength(1);
    });
  });

  it('a passing verdict is stored as the session callerTrust', async () => {
    const v = new CountingVerifier({
      result: 'pass', attest: 'A', verifies: true, outcome: null, identity: 'valid', networkAsserted: true,
      certificate: { spc: '1234', subject: 'CN=sp', issuer: 'CN=ca', notAfter: new Date().toISOString() },
    });
    await withVerifier(v, async (w) => {
      const { verification: s } = await store.create({ phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a' });
      expect(await w.handle(callEvent({ identity: 'a.b.c' }))).toMatchObject({ outcome: 'verified' });
      expect((await store.get(s.id))!.callerTrust).toEqual({
        result: 'pass', verstat: 'absent', attest: 'A', identity: 'valid', spc: '1234', cliSource: 'pai', networkAsserted: true,
      });
    });
  });

  it('a session\'s own policy applies to the verifier\'s evidence: a valid PASSporT of attestation B is refused under minAttestation A', async () => {
    const b = new CountingVerifier({ result: 'pass', attest: 'B', verifies: true, outcome: null, identity: 'valid', networkAsserted: true });
    await withVerifier(b, async (w) => {
      const { verification: s } = await store.create({
        phoneNumber: '+447700900001', ttlSeconds: 60, owner: 'a', trustPolicy: { failed: 'reject', minAttestation: 'A', requireNetworkAsserted: true },
      });
      expect(await w.handle(callEvent({ identity: 'a.b.c' }))).toMatchObject({ outcome: 'rejected', detail: 'caller_id_attestation_low', sessionId: s.id });
    });
    // A PASSporT vouches for a From-only CLI: a session requiring a network-asserted caller ID takes it.
    const a = new CountingVerifier({ result: 'pass', attest: 'A', verifies: true, outcome: null, identity: 'valid', networkAsserted: true });
    await withVerifier(a, async (w) => {
      expect(await w.handle(callEvent({ identity: 'a.b.c', cliOrigin: 'from' }))).toMatchObject({ outcome: 'verified' });
    });
  });

  it('an anchors file that cannot be read stops the start with an error naming the key', () => {
    const make = (anchorsFile: string) => () => createIdentityVerifier({
      config: { ...defaultConfig().trust.identity, anchorsFile }, policy: DEFAULT_CALLER_TRUST_POLICY, redis, prefix: PREFIX,
      metrics: createCallerTrustMetrics(new Registry()), logger: pino({ level: 'silent' }),
    });
    expect(make('/nonexistent/anchors.pem')).toThrow(/^trust\.identity\.anchorsFile: cannot read STI-CA certificates/);
    expect(make(fileURLToPath(import.meta.url))).toThrow(/^trust\.identity\.anchorsFile: /);
  });
});
