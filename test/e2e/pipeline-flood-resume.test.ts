/**
 * A flood that fills Redis, and service coming back by itself once it ends, with real processes:
 * edge, API and worker daemons (the built CLI) on one real redis-server with a small maxmemory, real
 * SIPp, a real webhook receiver. Nobody touches Redis or the daemons between flood and resumption.
 *
 * The API refuses creation from 60 % of maxmemory; the edge here sheds only from 89 % (its own
 * `redis.memoryHighWaterPercent`: 99) and never for a lagging worker, and does not decide calls itself
 * (`pipeline.prefilterWatermarkMs: 0`: the queue path, as when its copy is not exact), so the
 * unsolicited calls themselves, decided and deduped by the worker, carry Redis past the API's mark. With the shortest dedupe window (35 s) their state
 * is gone about a minute after the last call, and creation is taken again.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useSplitDeployment } from '../helpers/split-deployment.js';
import {
  SCENARIO_FROM_CLI, createMany, expectAllCallsRejected, exportAuditTrail, getVerification, phoneNumbers,
  placeCalls, rowsFor, unsolicitedRows, waitUntil, waitVerifiedWebhooks,
  type DaemonRole, type VerificationView, type VerifyDaemon,
} from '../helpers/verify-e2e.js';

const DIDS = ['+15550100001', '+15550100002', '+15550100003'];
const TTL = 300;
/** The API's mark: creation is refused from this share of maxmemory. */
const API_MARK = 0.6;
const FLOOD_CALLS = 10_000;
const FLOOD_RATE = 500;
/**
 * The mark is put this many bytes per flood call above what Redis holds before the flood: about
 * half of what the flood holds at its peak (~107 B a call, docs/memory-model.md), and well above
 * what stays once its dedupe state expired (the capped noise trail, talkers, BullMQ's events).
 * Either side keeps ~450 KB of margin against Redis's own swings (client buffers, ±200 KB).
 */
const MARK_BYTES_PER_CALL = 60;

let admin: Redis;
let edge: VerifyDaemon;
let api: VerifyDaemon;
let worker: VerifyDaemon;

const dep = useSplitDeployment(DIDS);

async function start(name: string, role: DaemonRole, highWaterPercent: number): Promise<VerifyDaemon> {
  return dep.start(name, role, [
    'redis:', `  memoryHighWaterPercent: ${highWaterPercent}`,
    // The shortest dedupe window; no shedding for a lagging worker (a loaded machine), and no
    // deciding at the edge (which costs Redis nothing per call), so every unsolicited call reaches
    // Redis: this is the queue path's memory ceiling at work.
    'pipeline:', '  dedupeWindowSeconds: 35', '  shedAfterSeconds: 3600', '  prefilterWatermarkMs: 0',
    'audit:', '  noiseMaxEntries: 100',
  ].join('\n') + '\n');
}

async function memory(): Promise<{ used: number; max: number }> {
  const info = await admin.info('memory');
  return { used: Number(/^used_memory:(\d+)/m.exec(info)?.[1]), max: Number(/^maxmemory:(\d+)/m.exec(info)?.[1]) };
}

/** The API's own reading of Redis memory (what its guard decides on), as a share of maxmemory. */
async function apiRatio(): Promise<number> {
  const m = await api.metrics();
  const max = m.get('ringproof_redis_maxmemory_bytes');
  return max > 0 ? m.get('ringproof_redis_used_memory_bytes') / max : 0;
}

async function post(phoneNumber: string): Promise<Response> {
  return fetch(`${api.baseUrl}/v1/verifications`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ phoneNumber, ttlSeconds: TTL }),
  });
}

beforeAll(async () => {
  admin = new Redis(dep.redis.url, { maxRetriesPerRequest: 1 });
  [edge, api, worker] = await Promise.all([start('edge', 'edge', 99), start('api', 'api', API_MARK * 100), start('worker', 'worker', 99)]);
}, 60_000);

afterAll(async () => {
  admin?.disconnect();
}, 60_000);

describe('a flood that fills Redis (edge, api and worker processes, one Redis with a small maxmemory)', () => {
  it('drives memory past the mark: every INVITE answered, creation 503 + Retry-After, pending sessions verify, nothing verified lost; then creation resumes by itself', async () => {
    const verified = await createMany(api.baseUrl, phoneNumbers(41, 3), TTL);
    expectAllCallsRejected(await placeCalls({ scenario: SCENARIO_FROM_CLI, daemon: edge, rows: rowsFor(verified), rate: 20 }), 3);
    await waitVerifiedWebhooks(dep.secret, dep.receiver.received, verified, 30_000);
    const pending = await createMany(api.baseUrl, phoneNumbers(42, 3), TTL);

    // A small ceiling, well above what Redis holds now: only the flood can carry it past the mark.
    const before = await memory();
    const maxmemory = Math.ceil((before.used + FLOOD_CALLS * MARK_BYTES_PER_CALL) / API_MARK);
    await admin.config('SET', 'maxmemory', String(maxmemory));
    await waitUntil('the API reads the ceiling', async () => ((await api.metrics()).get('ringproof_redis_maxmemory_bytes') === maxmemory ? true : undefined), 15_000, 200);
    expect(await apiRatio()).toBeLessThan(API_MARK);

    const flood = placeCalls({ scenario: SCENARIO_FROM_CLI, daemon: edge, rows: unsolicitedRows(43, FLOOD_CALLS, DIDS), rate: FLOOD_RATE, timeoutMs: 120_000 });
    let peak = 0;
    const watch = setInterval(() => void memory().then((m) => { peak = Math.max(peak, m.used); }, () => undefined), 250);
    try {
      // Creation is refused once the API sees the flood's state past its mark (asked only then, so
      // no probe creates a session).
      const refused = await waitUntil('creation refused during the flood', async () => {
        if ((await apiRatio()) < API_MARK) return undefined;
        const r = await post('+12025440001');
        return r.status === 503 ? r : undefined;
      }, 60_000, 200);
      expect(refused.headers.get('retry-after')).toBe('30');
      expect(await refused.json()).toMatchObject({ error: { code: 'RP_API_UNAVAILABLE' } });

      // Sessions pending before the flood verify during it.
      expectAllCallsRejected(await placeCalls({ scenario: SCENARIO_FROM_CLI, daemon: edge, rows: rowsFor(pending), rate: 20 }), 3);
      await waitVerifiedWebhooks(dep.secret, dep.receiver.received, pending, 30_000);
      // The edge answered every INVITE of the flood.
      expectAllCallsRejected(await flood, FLOOD_CALLS);
    } finally {
      clearInterval(watch);
    }
    // The flood itself filled Redis past the mark, and Redis never reached its ceiling.
    expect(peak / maxmemory).toBeGreaterThanOrEqual(API_MARK);
    expect(peak).toBeLessThan(maxmemory);
    // Nothing was shed: every call of the flood reached Redis and was decided by the worker.
    const shed = (await edge.metrics()).get('ringproof_events_published_total', { result: 'shed' });
    expect(shed).toBe(0);
    const decided = await waitUntil('every call decided', async () => {
      const n = (await worker.metrics()).get('ringproof_call_outcomes_total');
      return n >= FLOOD_CALLS + 6 ? n : undefined;
    }, 60_000, 500);
    expect(decided).toBe(FLOOD_CALLS + 6);

    // No manual step: the flood's dedupe state expires, memory falls under the mark, creation is taken.
    const resumed = await waitUntil('creation accepted again', async () => {
      if ((await apiRatio()) >= API_MARK) return undefined;
      const r = await post('+12025440002');
      return r.status === 201 ? r : undefined;
    }, 120_000, 500);
    expect(((await resumed.json()) as VerificationView).status).toBe('pending');
    // And all of the flood's dedupe state goes, leaving only capped records (noise trail, talkers).
    await waitUntil('the dedupe buckets expired', async () => ((await admin.keys('{ringproof}:dd:*')).length === 0 ? true : undefined), 90_000, 500);
    const after = await memory();
    expect(after.max).toBe(maxmemory);
    expect(after.used / maxmemory).toBeLessThan(API_MARK);
    console.log(`flood resume: before ${before.used} B, peak ${peak} B, after ${after.used} B, maxmemory ${maxmemory} B; shed ${shed}, decided ${decided}`);

    // Nothing verified was lost.
    const trail = await exportAuditTrail(dep.redis.url);
    for (const s of [...verified, ...pending]) {
      expect((await getVerification(api.baseUrl, s.id)).status).toBe('verified');
      const evidence = trail.filter((r) => (r as { trail?: string }).trail === 'evidence' && (r.data.id === s.id || r.data.sessionId === s.id));
      expect(evidence.map((r) => r.type).sort(), s.id).toEqual(['call', 'session.created', 'session.verified']);
    }
  }, 240_000);
});
