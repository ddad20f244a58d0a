import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';
import { RedisVerificationStore } from '../../src/verify/redis-verification-store.js';
import { CallWorker, type CallResult } from '../../src/verify/call-worker.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { createVerifyMetrics } from '../../src/verify/verify-metrics.js';
import { CALLS_QUEUE, EXPIRY_QUEUE, type ExpiryJobData } from '../../src/verify/queue-names.js';
import { sha1Hex } from '../../src/verify/verify-keys.js';
import type { CallEvent } from '../../src/edge/call-event.js';
import type { Verification, WebhookEmitter, WebhookEvent } from '../../src/verify/verification-types.js';

const PREFIX = '{rpburst}';
const DIDS = ['+15550002000', '+15550002001', '+15550002002', '+15550002003', '+15550002004'];

class CollectingEmitter implements WebhookEmitter {
  readonly sent: WebhookEvent[] = [];
  async emit(event: WebhookEvent): Promise<void> {
    // A little latency widens the window in which concurrent duplicates could race the emit.
    await new Promise((r) => setTimeout(r, Math.random() * 3));
    this.sent.push(event);
  }
}

let server: TestRedis;
const clients: Redis[] = [];

beforeAll(async () => {
  server = await startTestRedis({ appendonly: false });
});

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await stopAndClean(server);
});

function client(): Redis {
  const c = new Redis(server.url, { maxRetriesPerRequest: null });
  clients.push(c);
  return c;
}

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}

describe('two CallWorkers on a burst', () => {
  it('200 calls for 100 sessions (with duplicates): each session verified exactly once, one webhook each', async () => {
    const api = client();
    const expiryQueue = new Queue<ExpiryJobData>(EXPIRY_QUEUE, { connection: api, prefix: PREFIX });
    const calls = new Queue<CallEvent>(CALLS_QUEUE, { connection: api, prefix: PREFIX });
    const registry = new Registry();
    const metrics = createVerifyMetrics(registry);
    const audit = new AuditLog({ redis: api, prefix: PREFIX });
    const store = new RedisVerificationStore({ redis: api, prefix: PREFIX, dids: DIDS, expiryQueue, metrics, audit });

    const sessions: Verification[] = [];
    for (let i = 0; i < 100; i++) {
      sessions.push((await store.create({
        phoneNumber: `+4477009${String(i).padStart(5, '0')}`, ttlSeconds: 60, owner: 'load', callbackUrl: 'http://127.0.0.1:9/cb',
      })).verification);
    }

    const base = (v: Verification): CallEvent => ({
      v: 1, trunk: 't', source: { address: '127.0.0.1', port: 5060 }, transport: 'udp', callId: randomUUID(),
      cli: v.phoneNumber, cliOrigin: 'pai', cliRaw: v.phoneNumber, did: v.callTo as string, didRaw: v.callTo as string,
      verstat: null, identity: null, userAgent: null, rejectCode: 486, receivedAt: Date.now(),
    });
    const jobs: { name: string; data: CallEvent; opts: { jobId: string } }[] = [];
    sessions.forEach((v, i) => {
      const ev = base(v);
      jobs.push({ name: 'call', data: ev, opts: { jobId: sha1Hex(ev.callId) } });
      if (i % 2 === 0) {
        // The same call delivered again under another job (e.g. replayed from a spool).
        jobs.push({ name: 'call', data: ev, opts: { jobId: 'replay-' + sha1Hex(ev.callId) } });
      } else {
        // The user called again (new Call-ID), or the carrier retried with a new Call-ID.
        const again = { ...base(v), receivedAt: Date.now() };
        jobs.push({ name: 'call', data: again, opts: { jobId: sha1Hex(again.callId) } });
      }
    });
    expect(jobs).toHaveLength(200);

    const emitter = new CollectingEmitter();
    const results: CallResult[] = [];
    const workers = [0, 1].map(() => {
      const w = new CallWorker({ connection: client(), prefix: PREFIX, emitter, metrics, audit: new AuditLog({ redis: api, prefix: PREFIX }), concurrency: 8 });
      w.worker.on('completed', (_job, r) => results.push(r as CallResult)); // single-event jobs answer their CallResult
      w.worker.on('failed', (_job, err) => { throw err; });
      return w;
    });
    await Promise.all(workers.map((w) => w.worker.waitUntilReady()));
    await calls.addBulk(shuffle(jobs));

    const deadline = Date.now() + 15_000;
    while (results.length < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(results).toHaveLength(200);
    await Promise.all(workers.map((w) => w.close()));

    const byOutcome = (o: string): number => results.filter((r) => r.outcome === o).length;
    expect(byOutcome('verified')).toBe(100);
    expect(byOutcome('duplicate')).toBe(100);
    for (const v of sessions) expect((await store.get(v.id))?.status).toBe('verified');

    // Deliveries of the same call that run at the same moment may both hand the webhook over (a
    // retry must never be starved by its own earlier attempt); they carry one event id, which the
    // webhook queue uses as its job id, so receivers get one webhook per session.
    expect(new Set(emitter.sent.map((e) => e.id)).size).toBe(100);
    expect(new Set(emitter.sent.map((e) => e.data.verification.id))).toEqual(new Set(sessions.map((s) => s.id)));
    for (const v of sessions) {
      expect(new Set(emitter.sent.filter((e) => e.data.verification.id === v.id).map((e) => e.id)).size).toBe(1);
    }
    expect(emitter.sent.length).toBeLessThanOrEqual(results.filter((r) => r.emitted).length);

    const outcomes = await metrics.callOutcomes.get();
    expect(outcomes.values.find((x) => x.labels.outcome === 'verified')?.value).toBe(100);
    expect(await api.xlen(`${PREFIX}:audit`)).toBe(100 /* created */ + 200 /* calls */ + 100 /* verified */);
    await calls.close();
    await expiryQueue.close();
  });
});
