/**
 * The DID pool end to end: the built daemon (role api) seeds the Redis pool from its dids; the
 * `ringproof dids` commands, run against the same Redis, release a DID into quarantine and restore
 * it; new verifications are given only DIDs in service.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRingproof } from '../helpers/daemon-process.js';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';
import { createVerification, newWebhookSecret, phoneNumbers, startVerifyDaemon, type VerifyDaemon } from '../helpers/verify-e2e.js';

const DIDS = ['+15550105001', '+15550105002'];

let redis: TestRedis;
let daemon: VerifyDaemon;

const dids = (...args: string[]) => runRingproof(['dids', ...args], { env: { REDIS_URL: redis.url, RINGPROOF_LOG_LEVEL: 'warn' }, timeoutMs: 20_000 });
const lines = (text: string): Array<Record<string, unknown>> => text.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  redis = await startTestRedis();
  daemon = await startVerifyDaemon({ name: 'did-pool', role: 'api', redisUrl: redis.url, webhookSecret: newWebhookSecret(), dids: DIDS });
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  if (redis) await stopAndClean(redis);
});

describe('DID pool (ringproof dids, role api)', () => {
  it('a released DID is handed out no more until it is restored', async () => {
    const listed = await dids('list');
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect(lines(listed.stdout).map((d) => [d.did, d.status, d.source])).toEqual([[DIDS[0], 'active', 'config'], [DIDS[1], 'active', 'config']]);

    const released = await dids('release', DIDS[0] as string, '--reason', 'published', '--days', '30');
    expect(released.exitCode, released.stderr).toBe(0);
    expect(lines(released.stdout)[0]).toMatchObject({ did: DIDS[0], status: 'quarantined', reason: 'published' });
    const given = new Set<string>();
    for (const phoneNumber of phoneNumbers(41, 12)) given.add((await createVerification(daemon.baseUrl, { phoneNumber })).callTo);
    expect(given).toEqual(new Set([DIDS[1]]));

    const early = await dids('restore', DIDS[0] as string);
    expect(early.exitCode).toBe(1);
    expect(early.stderr).toMatch(/quarantined until .*force/);
    expect((await dids('release', 'garbage')).stderr).toMatch(/did: "garbage" is not an E\.164 number/);
    const forced = await dids('restore', DIDS[0] as string, '--force');
    expect(forced.exitCode, forced.stderr).toBe(0);
    const after = new Set<string>();
    for (const phoneNumber of phoneNumbers(42, 30)) after.add((await createVerification(daemon.baseUrl, { phoneNumber })).callTo);
    expect(after).toEqual(new Set(DIDS));
  });
});
