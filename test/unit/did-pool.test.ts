import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';
import { DidPool, DidPoolConflict } from '../../src/dids/did-pool.js';
import { defaultDidPoolConfig } from '../../src/dids/did-pool-defaults.js';
import { createDidFlagMetrics, DidFlagWatch } from '../../src/dids/did-flag-watch.js';
import type { AbuseEvent } from '../../src/abuse/abuse-event.js';
import { Registry } from 'prom-client';
import { pino } from 'pino';
import { verifyKeys } from '../../src/verify/verify-keys.js';

// The Redis DID pool: seeded from the configuration, quarantine on release, restore only after the
// quarantine and once the DID has gone quiet (per-minute counts of unwanted calls).

const PREFIX = '{rpdids}';
const [A, B, C] = ['+15550103001', '+15550103002', '+15550103003'] as const;
const DAY = 86_400_000;

let server: TestRedis;
let redis: Redis;
let now = Date.UTC(2026, 11, 7, 12, 0, 0);
let pool: DidPool;

beforeAll(async () => {
  server = await startTestRedis({ appendonly: false });
  redis = new Redis(server.url);
});

afterAll(async () => {
  redis.disconnect();
  await stopAndClean(server);
});

beforeEach(async () => {
  await redis.flushall();
  now = Date.UTC(2026, 11, 7, 12, 0, 0);
  pool = new DidPool(redis, PREFIX, defaultDidPoolConfig(), () => now);
});

/** Unwanted calls to `did` counted in this minute's aggregate, as the call worker counts them. */
async function unwanted(did: string, n: number, minutesAgo = 0): Promise<void> {
  await redis.hincrby(verifyKeys(PREFIX).aggregateKey(Math.floor(now / 60_000) - minutesAgo), `carrier|${did}|unsolicited`, n);
}

async function picks(n = 40): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < n; i++) out.add((await pool.pick()) as string);
  return out;
}

describe('DID pool', () => {
  it('is seeded from the configured dids; a reseed drops configured DIDs no longer listed but keeps API-added and quarantined ones', async () => {
    expect(await pool.seed([A, B])).toBe(2);
    await pool.add(C);
    await pool.release(B, { reason: 'published on a forum' });
    expect(await pool.seed([A])).toBe(2);
    const listed = await pool.list();
    expect(listed.map((d) => [d.did, d.status, d.source])).toEqual([[A, 'active', 'config'], [B, 'quarantined', 'config'], [C, 'active', 'api']]);
    expect(await picks()).toEqual(new Set([A, C]));
    // A reseed that lists B again does not take it out of quarantine.
    await pool.seed([A, B]);
    expect((await pool.get(B)).status).toBe('quarantined');
  });

  it('release quarantines for didPool.quarantineDays (or the days given) and never empties the service', async () => {
    await pool.seed([A, B]);
    const r = await pool.release(A);
    expect(r).toMatchObject({ status: 'quarantined', releasedAt: now, quarantineUntil: now + 90 * DAY });
    expect(await picks()).toEqual(new Set([B]));
    await expect(pool.release(B)).rejects.toThrow(/last one in service/);
    await pool.add(C);
    expect((await pool.release(B, { quarantineDays: 7 })).quarantineUntil).toBe(now + 7 * DAY);
    // Releasing again changes nothing.
    expect((await pool.release(A)).quarantineUntil).toBe(now + 90 * DAY);
    await expect(pool.add(A)).rejects.toThrow(/quarantined until .*: restore it instead/);
  });

  it('restores only after the quarantine (or forced) and only once the DID drew few unwanted calls in the quiet window', async () => {
    await pool.seed([A, B]);
    await pool.release(A);
    await expect(pool.restore(A)).rejects.toThrow(/quarantined until 2027-03-07/);
    now += 91 * DAY;
    // Still drawing calls: 11 in the last hour (at most 10), whatever force says.
    await unwanted(A, 6, 0);
    await unwanted(A, 5, 59);
    await unwanted(A, 100, 61);
    await unwanted(B, 50, 0);
    const refused = await pool.restore(A, { force: true }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DidPoolConflict);
    expect((refused as DidPoolConflict).message).toMatch(/still draws unwanted calls: 11 in the last 60 min \(at most 10\)/);
    expect((await pool.get(A)).unwantedCalls).toBe(11);
    // Quiet again an hour later.
    now += 60 * 60_000;
    const r = await pool.restore(A);
    expect(r).toMatchObject({ did: A, status: 'active', restoredAt: now });
    expect(r.quarantineUntil).toBeUndefined();
    expect(await picks()).toEqual(new Set([A, B]));
  });

  it('restores a release made by mistake with force, before the quarantine ends', async () => {
    await pool.seed([A, B]);
    await pool.release(A);
    expect((await pool.restore(A, { force: true })).status).toBe('active');
  });

  it('flags a DID whose unwanted calls rise far above its baseline, with reason and expiry, and an operator can unflag it', async () => {
    await pool.seed([A, B, C]);
    const events: AbuseEvent[] = [];
    const registry = new Registry();
    const watch = new DidFlagWatch({
      redis, prefix: PREFIX, pool, events: { emit: (e) => { events.push(e); }, close: async () => undefined },
      metrics: createDidFlagMetrics(registry), logger: pino({ level: 'silent' }), clock: () => now,
    });
    // Baseline (the 6 hours before the last 10 minutes): A gets 2 a minute, B 20 a minute.
    for (let m = 10; m < 370; m += 1) {
      await unwanted(A, 2, m);
      await unwanted(B, 20, m);
    }
    // Recent 10 minutes: A 30 a minute (15x its baseline), B 30 a minute (1.5x), C 4 a minute (quiet DID, floor 1/min, under minCalls).
    for (let m = 0; m < 10; m++) {
      await unwanted(A, 30, m);
      await unwanted(B, 30, m);
      await unwanted(C, 4, m);
    }
    expect(await watch.scan()).toEqual([A]);
    // Flagged once: a second scan changes nothing.
    expect(await watch.scan()).toEqual([]);
    const a = await pool.get(A);
    expect(a.flag).toEqual({ reason: 'unwanted_calls_spike', at: now, expiresAt: now + DAY, recentPerMinute: 30, baselinePerMinute: 2 });
    expect(a.status).toBe('active');
    expect(events).toEqual([{
      type: 'abuse.flagged', subject: { kind: 'did', value: A }, reason: 'auto:unwanted_calls_spike', expiresAt: now + DAY, at: now,
      detail: { process: 'api', recentPerMinute: 30, baselinePerMinute: 2 },
    }]);
    const m = await registry.getSingleMetric('ringproof_abuse_flags_total')?.get();
    expect(m?.values.find((v) => v.labels.kind === 'did')?.value).toBe(1);
    // Reversible, and it expires by itself.
    expect((await pool.unflag(A)).flag).toBeUndefined();
    expect((await pool.get(A)).flag).toBeUndefined();
    expect(await watch.scan()).toEqual([A]);
    now += DAY + 1;
    expect((await pool.get(A)).flag).toBeUndefined();
  });
});
