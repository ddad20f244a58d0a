/**
 * The blocklist across nodes, with a real Redis, two real daemons and real SIPp: an entry added
 * through the API of one node is in force on a second edge process within a second (pub/sub; the
 * periodic reload is set to an hour so only pub/sub can do it); a call from the blocked number is
 * still rejected on the wire, counted with its reason, and never verifies its session; removing the
 * entry with `ringproof blocklist remove` lets the next call verify.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRingproof } from '../helpers/daemon-process.js';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';
import {
  createVerification, expectAllCallsRejected, getVerification, newWebhookSecret, placeCalls, SCENARIO_FROM_CLI, startVerifyDaemon,
  waitUntil, type VerifyDaemon,
} from '../helpers/verify-e2e.js';

const DIDS = ['+15550100001'];
const NUMBER = '+12025550160';
const CONFIG = 'abuse:\n  blocklist:\n    reloadSeconds: 3600\n';

let redis: TestRedis;
let nodeA: VerifyDaemon;
let edgeB: VerifyDaemon;

beforeAll(async () => {
  redis = await startTestRedis({ appendonly: false });
  const secret = newWebhookSecret();
  [nodeA, edgeB] = await Promise.all([
    startVerifyDaemon({ name: 'node-a', role: 'all', redisUrl: redis.url, webhookSecret: secret, dids: DIDS, configYaml: CONFIG }),
    startVerifyDaemon({ name: 'edge-b', role: 'edge', redisUrl: redis.url, webhookSecret: secret, dids: DIDS, configYaml: CONFIG }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([nodeA?.stop(), edgeB?.stop()]);
  await stopAndClean(redis);
});

describe('blocklist across nodes', () => {
  it('an API entry on node A is enforced by edge B within a second; the blocked call never verifies; removal by the CLI restores it', async () => {
    const api = nodeA.baseUrl;
    const session = await createVerification(api, { phoneNumber: NUMBER, ttlSeconds: 120 });
    await waitUntil('edge B has loaded the blocklist', async () => ((await edgeB.metrics()).get('ringproof_blocklist_entries') === 0 ? true : undefined), 5000);

    const t0 = Date.now();
    const res = await fetch(`${api}/v1/blocklist`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'number', value: NUMBER, reason: 'fraud', note: 'e2e' }),
    });
    expect(res.status).toBe(201);
    await waitUntil('edge B holds the entry', async () => ((await edgeB.metrics()).get('ringproof_blocklist_entries') === 1 ? true : undefined), 5000, 20);
    expect(Date.now() - t0).toBeLessThan(1000);

    // The blocked caller calls the right DID: rejected on the wire like any call, and never verifies.
    expectAllCallsRejected(await placeCalls({ scenario: SCENARIO_FROM_CLI, daemon: edgeB, rows: [{ cli: NUMBER, did: session.callTo }] }), 1);
    expect((await edgeB.metrics()).get('ringproof_blocked_calls_total', { kind: 'number', reason: 'fraud' })).toBe(1);
    await waitUntil('the worker decided the call', async () => ((await nodeA.metrics()).get('ringproof_call_outcomes_total', { outcome: 'blocked' }) === 1 ? true : undefined), 10_000);
    expect((await getVerification(api, session.id)).status).toBe('pending');

    const env = { RINGPROOF_API_URL: api };
    const listed = await runRingproof(['blocklist', 'list'], { env });
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(`number\t${NUMBER}\tfraud\tno expiry\tby loopback\te2e`);
    const removed = await runRingproof(['blocklist', 'remove', 'number', NUMBER], { env });
    expect(removed.exitCode, removed.stderr).toBe(0);
    await waitUntil('edge B dropped the entry', async () => ((await edgeB.metrics()).get('ringproof_blocklist_entries') === 0 ? true : undefined), 5000, 20);

    expectAllCallsRejected(await placeCalls({ scenario: SCENARIO_FROM_CLI, daemon: edgeB, rows: [{ cli: NUMBER, did: session.callTo }] }), 1);
    await waitUntil('the session verified', async () => ((await getVerification(api, session.id)).status === 'verified' ? true : undefined), 10_000);
    const again = await runRingproof(['blocklist', 'remove', 'number', NUMBER], { env });
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain('RP_API_NOT_FOUND');
  });
});
