import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';
import { RedisVerificationStore } from '../../src/verify/redis-verification-store.js';
import { CallWorker } from '../../src/verify/call-worker.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { createVerifyMetrics, type VerifyMetrics } from '../../src/verify/verify-metrics.js';
import { EXPIRY_QUEUE, type ExpiryJobData } from '../../src/verify/queue-names.js';
import { verifyKeys } from '../../src/verify/verify-keys.js';
import { RedisCallLimits } from '../../src/limits/call-limiter.js';
import { createCallLimitMetrics, type CallLimitMetrics } from '../../src/limits/call-limit-metrics.js';
import { defaultCallLimits } from '../../src/limits/call-limit-defaults.js';
import type { CallLimitsConfig } from '../../src/config/config-types.js';
import type { CallEvent } from '../../src/edge/call-event.js';
import type { WebhookEmitter, WebhookEvent } from '../../src/verify/verification-types.js';

// Call limits with a real Redis: a call over each limit never verifies and its outcome (and the
// session's lastRejection) names the limit; calls whose CLI has no pending session count nothing.

const PREFIX = '{rpcalllim}';
const DID = '+15550002000';
const OTHER_DIDS = ['+15550002001', '+15550002002', '+15550002003'];

class CollectingEmitter implements WebhookEmitter {
  readonly sent: WebhookEvent[] = [];
  async emit(event: WebhookEvent): Promise<void> { this.sent.push(event); }
}

function call(cli: string, over: Partial<CallEvent> = {}): CallEvent {
  return {
    v: 1, trunk: 'carrier-a', source: { address: '127.0.0.1', port: 5060 }, transport: 'udp',
    callId: randomUUID(), cli, cliOrigin: 'pai', cliRaw: cli, did: DID, didRaw: DID, verstat: null,
    identity: null, userAgent: 'test', rejectCode: 486, receivedAt: Date.now(), ...over,
  };
}

/** Every limit off but the ones given. */
function only(limits: Partial<CallLimitsConfig>): CallLimitsConfig {
  const off = { count: 0, windowSeconds: 600 };
  return { enabled: true, perCli: off, perCliDids: off, perDid: off, perTrunk: off, ...limits };
}

let server: TestRedis;
let redis: Redis;
let expiryQueue: Queue<ExpiryJobData>;
let store: RedisVerificationStore;
let metrics: VerifyMetrics;
let limitMetrics: CallLimitMetrics;
let audit: AuditLog;
let workers: CallWorker[] = [];

beforeAll(async () => {
  server = await startTestRedis({ appendonly: false });
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
  expiryQueue = new Queue<ExpiryJobData>(EXPIRY_QUEUE, { connection: redis, prefix: PREFIX });
});

afterAll(async () => {
  for (const w of workers) await w.close();
  await expiryQueue.close();
  redis.disconnect();
  await stopAndClean(server);
});

beforeEach(async () => {
  await redis.flushall();
  metrics = createVerifyMetrics(new Registry());
  limitMetrics = createCallLimitMetrics(new Registry());
  audit = new AuditLog({ redis, prefix: PREFIX });
  store = new RedisVerificationStore({ redis, prefix: PREFIX, dids: [DID], expiryQueue, metrics, audit });
});

function limiter(limits: CallLimitsConfig): RedisCallLimits {
  return new RedisCallLimits(redis, { prefix: PREFIX, limits, metrics: limitMetrics, pendingKey: verifyKeys(PREFIX).pending });
}

function worker(callLimits: RedisCallLimits): CallWorker {
  const w = new CallWorker({ connection: redis, prefix: PREFIX, emitter: new CollectingEmitter(), metrics, audit, autorun: false, callLimits });
  workers.push(w);
  return w;
}

async function session(phoneNumber: string): Promise<string> {
  return (await store.create({ phoneNumber, ttlSeconds: 120, owner: 'test' })).verification.id;
}

async function limited(limit: string): Promise<number> {
  return (await limitMetrics.limited.get()).values.find((v) => v.labels.limit === limit)?.value ?? 0;
}

describe('call limits', () => {
  it('perCli: the call past the count from one CLI does not verify and names limit_cli', async () => {
    const w = worker(limiter(only({ perCli: { count: 3, windowSeconds: 600 } })));
    const id = await session('+12025550110');
    // Three calls to DIDs the session was not given: candidates (the CLI is pending), unmatched.
    for (const did of OTHER_DIDS) expect((await w.handle(call('+12025550110', { did }))).outcome).toBe('unsolicited');
    const r = await w.handle(call('+12025550110'));
    expect(r).toMatchObject({ outcome: 'rejected', detail: 'limit_cli', sessionId: id });
    const v = await store.get(id);
    expect(v?.status).toBe('pending');
    expect(v?.lastRejection?.reason).toBe('limit_cli');
    expect(await limited('perCli')).toBe(1);
    // Another CLI is not affected.
    await session('+12025550111');
    expect((await w.handle(call('+12025550111'))).outcome).toBe('verified');
  });

  it('perCliDids: a CLI sweeping the pool is refused from the DID past the count (limit_cli_dids), even on the right DID', async () => {
    const w = worker(limiter(only({ perCliDids: { count: 2, windowSeconds: 600 } })));
    const id = await session('+12025550120');
    // Calling the same wrong DID again is not a sweep.
    for (let i = 0; i < 3; i++) await w.handle(call('+12025550120', { did: OTHER_DIDS[0] as string }));
    await w.handle(call('+12025550120', { did: OTHER_DIDS[1] as string }));
    const r = await w.handle(call('+12025550120'));
    expect(r).toMatchObject({ outcome: 'rejected', detail: 'limit_cli_dids' });
    expect((await store.get(id))?.status).toBe('pending');
    expect(await limited('perCliDids')).toBe(1);
  });

  it('perDid and perTrunk: candidate calls of a DID or a trunk past the count are refused, others verify', async () => {
    const w = worker(limiter(only({ perDid: { count: 2, windowSeconds: 600 }, perTrunk: { count: 3, windowSeconds: 600 } })));
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await session(`+1202555013${i}`));
    // One batch: 2 verify, the third call to the DID is over perDid (named first), the fourth too.
    const batch = ids.map((_, i) => call(`+1202555013${i}`));
    const rs = await w.handleBatch(batch);
    expect(rs.map((r) => r.outcome)).toEqual(['verified', 'verified', 'rejected', 'rejected']);
    expect(rs.slice(2).map((r) => r.detail)).toEqual(['limit_did', 'limit_did']);
    // Another DID on the same trunk: its DID count is fine, the trunk's (3, 4 counted already) is not.
    await store.prepareDids([OTHER_DIDS[2] as string])();
    const id = await session('+12025550139');
    const r = await w.handle(call('+12025550139', { did: OTHER_DIDS[2] as string }));
    expect(r).toMatchObject({ outcome: 'rejected', detail: 'limit_trunk', sessionId: id });
    // Another trunk is not limited by carrier-a's count.
    expect((await w.handle(call('+12025550139', { did: OTHER_DIDS[2] as string, trunk: 'carrier-b' }))).outcome).toBe('verified');
    expect(await limited('perDid')).toBe(2);
    expect(await limited('perTrunk')).toBe(1);
  });

  it('counts nothing for calls whose CLI has no pending session (a flood pays one ZSCORE a call)', async () => {
    const w = worker(limiter(only({ perCli: { count: 1, windowSeconds: 600 }, perDid: { count: 1, windowSeconds: 600 } })));
    const flood = Array.from({ length: 200 }, (_, i) => call(`+1202555${String(1000 + i).padStart(4, '0')}`));
    const rs = await w.handleBatch(flood);
    expect(rs.every((r) => r.outcome === 'unsolicited')).toBe(true);
    expect(await redis.keys(`${PREFIX}:lim:call:*`)).toEqual([]);
    // The DID's first candidate call still verifies.
    await session('+12025550140');
    expect((await w.handle(call('+12025550140'))).outcome).toBe('verified');
  });

  it('puts a reload in force (limits.calls off)', async () => {
    const limits = limiter(only({ perCli: { count: 1, windowSeconds: 600 } }));
    const w = worker(limits);
    const id = await session('+12025550150');
    await w.handle(call('+12025550150', { did: OTHER_DIDS[0] as string }));
    expect((await w.handle(call('+12025550150'))).detail).toBe('limit_cli');
    limits.prepareReload({ ...defaultCallLimits(), enabled: false })();
    const r = await w.handle(call('+12025550150'));
    expect(r).toMatchObject({ outcome: 'verified', sessionId: id });
  });
});
