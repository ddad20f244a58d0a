/**
 * The calls pipeline under an unsolicited flood, with real processes: edge, API and worker daemons
 * (the built CLI) on one real redis-server, real SIPp, a real webhook receiver.
 *   a) sessions verified before a flood larger than the noise trail's cap keep their evidence in
 *      `audit export`; a session pending before the flood verifies during it; the flood itself is
 *      decided at the edge (its exact pending-number copy): not one of its calls is queued;
 *   b) Redis near its memory ceiling: the edge answers every INVITE, sheds unsolicited calls
 *      (counted), creation answers 503 + Retry-After, a pending session still verifies, nothing
 *      verified is lost, and creation works again once memory is back under the mark (here the
 *      ceiling is raised by hand; pipeline-flood-resume.test.ts shows the flood ebbing on its own).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useSplitDeployment } from '../helpers/split-deployment.js';
import {
  SCENARIO_FROM_CLI, createMany, expectAllCallsRejected, exportAuditTrail, getVerification, phoneNumbers,
  placeCalls, rowsFor, unsolicitedRows, waitUntil, waitVerifiedWebhooks,
  type DaemonRole, type VerifyDaemon,
} from '../helpers/verify-e2e.js';

const DIDS = ['+15550100001', '+15550100002', '+15550100003'];
const TTL = 300;
const NOISE_CAP = 100;

let admin: Redis;
let edge: VerifyDaemon;
let api: VerifyDaemon;

const dep = useSplitDeployment(DIDS);
const start = (name: string, role: DaemonRole): Promise<VerifyDaemon> => dep.start(name, role, `audit:\n  noiseMaxEntries: ${NOISE_CAP}\n`);

async function post(body: Record<string, unknown>): Promise<Response> {
  return fetch(`${api.baseUrl}/v1/verifications`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

beforeAll(async () => {
  admin = new Redis(dep.redis.url, { maxRetriesPerRequest: 1 });
  [edge, api] = await Promise.all([start('edge', 'edge'), start('api', 'api')]);
  await start('worker', 'worker');
}, 60_000);

afterAll(async () => {
  await admin?.config('SET', 'maxmemory', '0').catch(() => undefined);
  admin?.disconnect();
}, 60_000);

describe('unsolicited flood (edge, api and worker processes, one Redis)', () => {
  it('a) evidence survives a flood larger than the noise cap; a session pending before the flood verifies during it; the flood never reaches the queue', async () => {
    const edgeBefore = await edge.metrics();
    const [early, late] = [await createMany(api.baseUrl, phoneNumbers(31, 5), TTL), await createMany(api.baseUrl, phoneNumbers(32, 5), TTL)];
    expectAllCallsRejected(await placeCalls({ scenario: SCENARIO_FROM_CLI, daemon: edge, rows: rowsFor(early), rate: 50 }), 5);
    await waitVerifiedWebhooks(dep.secret, dep.receiver.received, early, 30_000);

    // 2,000 unsolicited calls (20x the noise trail's cap) with the pending sessions' calls in the middle.
    const flood = placeCalls({ scenario: SCENARIO_FROM_CLI, daemon: edge, rows: unsolicitedRows(33, 2000, DIDS), rate: 400, timeoutMs: 90_000 });
    await new Promise((r) => setTimeout(r, 1500));
    expectAllCallsRejected(await placeCalls({ scenario: SCENARIO_FROM_CLI, daemon: edge, rows: rowsFor(late), rate: 20 }), 5);
    await waitVerifiedWebhooks(dep.secret, dep.receiver.received, late, 30_000);
    expectAllCallsRejected(await flood, 2000);

    // The edge decided the flood itself; only the 10 legitimate calls became queue work (and any
    // call the edge could not hold, were its watermark late on a loaded machine: counted, queued).
    const m = await waitUntil('the flood decided at the edge', async () => {
      const e = await edge.metrics();
      const gone = e.get('ringproof_prefilter_decided_total') - edgeBefore.get('ringproof_prefilter_decided_total');
      const bypassed = e.get('ringproof_prefilter_hold_overflow_total') - edgeBefore.get('ringproof_prefilter_hold_overflow_total');
      return gone + bypassed >= 2000 ? e : undefined;
    }, 15_000);
    const bypassed = m.get('ringproof_prefilter_hold_overflow_total') - edgeBefore.get('ringproof_prefilter_hold_overflow_total');
    // Unsolicited, or blocked once the enumeration auto-block barred the flood's number blocks
    // (2,000 different numbers from a few blocks is a sweep by abuse.enumeration's defaults).
    const decided = (r: typeof m): number =>
      r.get('ringproof_prefilter_decided_total', { outcome: 'unsolicited' }) + r.get('ringproof_prefilter_decided_total', { outcome: 'blocked' });
    expect(decided(m) - decided(edgeBefore)).toBe(2000 - bypassed);
    const queued = (r: typeof m): number => r.get('ringproof_events_published_total', { result: 'queued' }) + r.get('ringproof_events_published_total', { result: 'spooled' });
    expect(queued(m) - queued(edgeBefore)).toBe(10 + bypassed);
    if (bypassed > 0) console.info(`a) ${bypassed} flood call(s) took the queue path (hold overflow)`);

    const trail = await exportAuditTrail(dep.redis.url);
    const noise = trail.filter((r) => (r as { trail?: string }).trail === 'noise');
    expect(noise.length).toBeGreaterThan(0);
    expect(noise.length).toBeLessThan(2 * NOISE_CAP + 100); // capped (MAXLEN ~ trims whole nodes)
    for (const s of [...early, ...late]) {
      const evidence = trail.filter((r) => (r as { trail?: string }).trail === 'evidence' && (r.data.id === s.id || r.data.sessionId === s.id));
      expect(evidence.map((r) => r.type).sort(), s.id).toEqual(['call', 'session.created', 'session.verified']);
      expect(evidence.find((r) => r.type === 'call')!.data).toMatchObject({ cli: s.phoneNumber, did: s.callTo, outcome: 'verified' });
    }
    // No unsolicited call became evidence.
    expect(trail.filter((r) => (r as { trail?: string }).trail === 'evidence' && r.type === 'call' && String(r.data.cli).startsWith('+155533'))).toEqual([]);
  }, 150_000);

  it('b) near the memory ceiling: every INVITE answered, unsolicited calls shed, creation 503 + Retry-After, pending sessions verify, then creation resumes', async () => {
    const pending = await createMany(api.baseUrl, phoneNumbers(34, 3), TTL);
    const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
    // 92 % used: past the 90 % mark where creation is refused and the 80 % where edges shed, with
    // some room left for the work that must go on (the pending sessions' calls).
    await admin.config('SET', 'maxmemory', String(Math.ceil(used / 0.92)));
    const refused = await waitUntil('creation refused', async () => {
      const r = await post({ phoneNumber: '+12025340099', ttlSeconds: TTL });
      return r.status === 503 ? r : undefined;
    }, 15_000, 250);
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(await refused.json()).toMatchObject({ error: { code: 'RP_API_UNAVAILABLE' } });
    // The edge reads Redis memory on its own, once a second.
    await new Promise((r) => setTimeout(r, 2500));
    const before = await edge.metrics();
    const shedBefore = before.get('ringproof_events_published_total', { result: 'shed' }) + before.get('ringproof_events_published_total', { result: 'decided' });

    const flood = placeCalls({ scenario: SCENARIO_FROM_CLI, daemon: edge, rows: unsolicitedRows(35, 2000, DIDS), rate: 400, timeoutMs: 90_000 });
    await new Promise((r) => setTimeout(r, 1000));
    expectAllCallsRejected(await placeCalls({ scenario: SCENARIO_FROM_CLI, daemon: edge, rows: rowsFor(pending), rate: 20 }), 3);
    expectAllCallsRejected(await flood, 2000);
    await waitVerifiedWebhooks(dep.secret, dep.receiver.received, pending, 30_000);
    // Shed, or (cheaper still, and counted) decided at the edge: not queued.
    const after = await edge.metrics();
    const shed = after.get('ringproof_events_published_total', { result: 'shed' }) + after.get('ringproof_events_published_total', { result: 'decided' }) - shedBefore;
    expect(shed).toBeGreaterThan(1000);
    for (const s of pending) expect((await getVerification(api.baseUrl, s.id)).status).toBe('verified');

    // Memory back under the mark (here: the operator raises the ceiling): creation resumes by itself.
    await admin.config('SET', 'maxmemory', '0');
    await waitUntil('creation accepted again', async () => {
      const r = await post({ phoneNumber: '+12025340099', ttlSeconds: TTL });
      return r.status === 201 ? r : undefined;
    }, 15_000, 250);
  }, 150_000);
});
