/**
 * The blocklist: entry validation, the edge's in-memory index (O(length) prefix matching, names,
 * expiry), the Redis store and its pub/sub mirror on a real redis-server, and /v1/blocklist with the
 * admin scope.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBlocklistInput, type BlocklistEntry } from '../../src/abuse/blocklist-entry.js';
import { BlocklistIndex } from '../../src/abuse/blocklist-index.js';
import { BlocklistMirror } from '../../src/abuse/blocklist-mirror.js';
import { BlocklistStore } from '../../src/abuse/blocklist-store.js';
import { hashApiKey } from '../../src/config/hash-api-key.js';
import { startApiHarness, type ApiHarness } from '../helpers/api-harness.js';
import { logCapture } from '../helpers/log-capture.js';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const entry = (kind: BlocklistEntry['kind'], value: string, reason = 'fraud', expiresAt: number | null = null): BlocklistEntry =>
  ({ kind, value, reason, expiresAt, createdAt: NOW, createdBy: 'test' });

describe('parseBlocklistInput', () => {
  it('reads the three kinds, a ttl or an expiry, and compacts number spellings', () => {
    expect(parseBlocklistInput({ kind: 'number', value: '+1 202-555-0123', reason: 'fraud' }, NOW)).toEqual({ kind: 'number', value: '+12025550123', reason: 'fraud', expiresAt: null });
    expect(parseBlocklistInput({ kind: 'prefix', value: '+44 70', reason: 'irsf', ttlSeconds: 60 }, NOW)).toMatchObject({ value: '+4470', expiresAt: NOW + 60_000 });
    expect(parseBlocklistInput({ kind: 'name', value: '  Spam   Caller ', reason: 'cnam', note: 'reported', expiresAt: '2026-07-01T00:00:00Z' }, NOW))
      .toEqual({ kind: 'name', value: 'Spam Caller', reason: 'cnam', note: 'reported', expiresAt: Date.parse('2026-07-01T00:00:00Z') });
  });

  it.each([
    [null, 'body'],
    [[1], 'body'],
    [{ kind: 'email', value: 'x', reason: 'r' }, 'kind'],
    [{ value: '+12025550123', reason: 'r' }, 'kind'],
    [{ kind: 'number', value: 12025550123, reason: 'r' }, 'value'],
    [{ kind: 'number', value: '12025550123', reason: 'r' }, 'value'],
    [{ kind: 'number', value: '+1202', reason: 'r' }, 'value'],
    [{ kind: 'prefix', value: '+0', reason: 'r' }, 'value'],
    [{ kind: 'name', value: '   ', reason: 'r' }, 'value'],
    [{ kind: 'name', value: 'a\u0000b', reason: 'r' }, 'value'],
    [{ kind: 'name', value: 'x'.repeat(129), reason: 'r' }, 'value'],
    [{ kind: 'number', value: '+12025550123' }, 'reason'],
    [{ kind: 'number', value: '+12025550123', reason: 'has spaces' }, 'reason'],
    [{ kind: 'number', value: '+12025550123', reason: 'r', note: 5 }, 'note'],
    [{ kind: 'number', value: '+12025550123', reason: 'r', ttlSeconds: 0 }, 'ttlSeconds'],
    [{ kind: 'number', value: '+12025550123', reason: 'r', ttlSeconds: 1.5 }, 'ttlSeconds'],
    [{ kind: 'number', value: '+12025550123', reason: 'r', ttlSeconds: 5, expiresAt: '2030-01-01T00:00:00Z' }, 'ttlSeconds'],
    [{ kind: 'number', value: '+12025550123', reason: 'r', expiresAt: '2020-01-01T00:00:00Z' }, 'expiresAt'],
    [{ kind: 'number', value: '+12025550123', reason: 'r', expiresAt: 'tomorrow' }, 'expiresAt'],
    [{ kind: 'number', value: '+12025550123', reason: 'r', extra: true }, 'extra'],
  ])('%j -> 400 naming %s', (body, field) => {
    expect(() => parseBlocklistInput(body, NOW)).toThrow(expect.objectContaining({ statusCode: 400, code: 'RP_API_VALIDATION', field }));
  });
});

describe('BlocklistIndex', () => {
  it('matches a number, then the longest prefix; names whatever their case and spacing; never a lapsed entry', () => {
    const index = new BlocklistIndex([
      entry('number', '+12025550123', 'exact'),
      entry('prefix', '+1202', 'short'),
      entry('prefix', '+1202555', 'long'),
      entry('prefix', '+44', 'old', NOW - 1),
      entry('name', 'Spam Caller', 'cnam'),
    ]);
    expect(index.size).toBe(5);
    expect(index.matchNumber('+12025550123', NOW)?.reason).toBe('exact');
    expect(index.matchNumber('+12025550199', NOW)?.reason).toBe('long');
    expect(index.matchNumber('+12029990000', NOW)?.reason).toBe('short');
    expect(index.matchNumber('+1202', NOW)?.reason).toBe('short');
    expect(index.matchNumber('+12035550123', NOW)).toBeUndefined();
    expect(index.matchNumber('+447700900123', NOW)).toBeUndefined();
    expect(index.matchName(' SPAM   caller', NOW)?.reason).toBe('cnam');
    expect(index.matchName('Spam', NOW)).toBeUndefined();
    index.removeField('prefix:+1202555');
    expect(index.matchNumber('+12025550199', NOW)?.reason).toBe('short');
    index.removeField('name:spam caller');
    expect(index.hasNames).toBe(false);
  });

  it('matches in O(length of the number): 100,000 prefixes of one length cost one lookup per length', () => {
    const many: BlocklistEntry[] = [];
    for (let i = 0; i < 100_000; i++) many.push(entry('prefix', `+1${String(i).padStart(7, '0')}`));
    const index = new BlocklistIndex(many);
    // Only one prefix length is in use: a match is one Map lookup for the number and one for the length.
    expect((index as unknown as { prefixLengths: number[] }).prefixLengths).toEqual([9]);
    expect(index.matchNumber('+1000004212345', NOW)?.value).toBe('+10000042');
    expect(index.matchNumber('+2000004212345', NOW)).toBeUndefined();
  });
});

let testRedis: TestRedis;
beforeAll(async () => {
  testRedis = await startTestRedis({ appendonly: false });
});
afterAll(async () => {
  await stopAndClean(testRedis);
});

describe('BlocklistStore and BlocklistMirror on a real Redis', () => {
  it('an entry added on one node reaches another node\'s copy by pub/sub, and its removal too; list() drops lapsed entries', async () => {
    const writer = new Redis(testRedis.url);
    const reader = new Redis(testRedis.url);
    const subscriber = new Redis(testRedis.url);
    const store = new BlocklistStore(writer, '{bltest}');
    const { logger } = logCapture('info');
    const sizes: number[] = [];
    // Reloads only once an hour: whatever arrives below arrives by pub/sub.
    const mirror = new BlocklistMirror({ subscriber, reader, keys: store.keys, reloadMs: 3_600_000, logger, onSize: (n) => sizes.push(n) });
    try {
      await store.add({ kind: 'prefix', value: '+4470', reason: 'old', expiresAt: null }, 'test');
      await mirror.whenSynced();
      expect(mirror.loaded).toBe(true);
      expect(mirror.current.matchNumber('+447012345678', Date.now())?.reason).toBe('old');
      await store.add({ kind: 'number', value: '+12025550123', reason: 'fraud', expiresAt: null }, 'ops');
      await expect.poll(() => mirror.current.matchNumber('+12025550123', Date.now())?.reason, { timeout: 2000 }).toBe('fraud');
      await store.remove('prefix', '+4470');
      await expect.poll(() => mirror.current.matchNumber('+447012345678', Date.now()), { timeout: 2000 }).toBeUndefined();
      expect(sizes.at(-1)).toBe(1);
      await store.add({ kind: 'name', value: 'Gone Soon', reason: 'x', expiresAt: Date.now() + 50 }, 'ops');
      await new Promise((r) => setTimeout(r, 80));
      expect((await store.list()).map((e) => e.value)).toEqual(['+12025550123']);
      expect(await writer.hlen(store.keys.hash)).toBe(1);
      expect(await store.remove('number', '+19999999999')).toBe(false);
      // The anomaly detectors' batches: one write, one announcement, every entry in the other copy.
      const many = Array.from({ length: 300 }, (_, i) => ({ kind: 'prefix' as const, value: `+4479${String(i).padStart(4, '0')}`, reason: 'auto:enumeration', expiresAt: Date.now() + 60_000 }));
      const stored = await store.addMany(many, 'auto');
      expect(stored).toHaveLength(300);
      expect(stored[0]).toMatchObject({ createdBy: 'auto', reason: 'auto:enumeration' });
      await expect.poll(() => mirror.current.matchNumber('+447902991234', Date.now())?.reason, { timeout: 2000 }).toBe('auto:enumeration');
      expect(mirror.current.matchNumber('+447900001234', Date.now())?.reason).toBe('auto:enumeration');
      expect(await writer.hlen(store.keys.hash)).toBe(301);
      expect(await store.addMany([], 'auto')).toEqual([]);
    } finally {
      mirror.close();
      writer.disconnect();
      reader.disconnect();
      subscriber.disconnect();
    }
  });
});

describe('BlocklistMirror full reloads (RedisSyncedCopy)', () => {
  it('an entry written without an announcement is picked up by the full reload, at the period setReloadMs gives (SIGHUP)', async () => {
    const writer = new Redis(testRedis.url);
    const subscriber = new Redis(testRedis.url);
    const store = new BlocklistStore(writer, '{blreload}');
    const { logger } = logCapture('info');
    const mirror = new BlocklistMirror({ subscriber, reader: writer, keys: store.keys, reloadMs: 3_600_000, logger });
    try {
      await mirror.whenSynced();
      // Straight into the hash, as if its announcement had been missed.
      const entry = { kind: 'number', value: '+12025550199', reason: 'missed', expiresAt: null, createdAt: Date.now(), createdBy: 'test' };
      await writer.hset(store.keys.hash, 'number:+12025550199', JSON.stringify(entry));
      await new Promise((r) => setTimeout(r, 300));
      expect(mirror.current.matchNumber('+12025550199', Date.now())).toBeUndefined();
      mirror.setReloadMs(100);
      await expect.poll(() => mirror.current.matchNumber('+12025550199', Date.now())?.reason, { timeout: 3000 }).toBe('missed');
    } finally {
      mirror.close();
      writer.disconnect();
      subscriber.disconnect();
    }
  });
});

describe('/v1/blocklist', () => {
  const ADMIN = 'rp_admin_token_0123456789abcdef';
  const APP = 'rp_app_token_0123456789abcdefgh';
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApiHarness(testRedis, { keys: [{ name: 'ops', hash: hashApiKey(ADMIN), admin: true }, { name: 'shop', hash: hashApiKey(APP) }] });
  });
  afterAll(async () => {
    await api.close();
  });
  const call = async (method: string, path: string, token: string, body?: unknown, raw?: string) => {
    const res = await fetch(`${api.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(raw !== undefined ? { body: raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: await res.json() as Record<string, any> };
  };

  it('lets an admin key add, list and remove entries', async () => {
    const added = await call('POST', '/v1/blocklist', ADMIN, { kind: 'number', value: '+12025550142', reason: 'fraud', note: 'chargeback', ttlSeconds: 600 });
    expect(added.status).toBe(201);
    expect(added.body.entry).toMatchObject({ kind: 'number', value: '+12025550142', reason: 'fraud', note: 'chargeback', createdBy: 'ops' });
    expect(Date.parse(added.body.entry.expiresAt)).toBeGreaterThan(Date.now());
    expect((await call('POST', '/v1/blocklist', ADMIN, { kind: 'name', value: 'Robo Dialer', reason: 'cnam' })).status).toBe(201);
    const listed = await call('GET', '/v1/blocklist', ADMIN);
    expect(listed.status).toBe(200);
    expect(listed.body.entries.map((e: { value: string }) => e.value)).toEqual(['Robo Dialer', '+12025550142']);
    expect(await call('DELETE', `/v1/blocklist/name/${encodeURIComponent('robo  DIALER')}`, ADMIN)).toMatchObject({ status: 200 });
    expect(await call('DELETE', '/v1/blocklist/number/%2B12025550142', ADMIN)).toMatchObject({ status: 200, body: { removed: { kind: 'number', value: '+12025550142' } } });
    expect(await call('DELETE', '/v1/blocklist/number/%2B12025550142', ADMIN)).toMatchObject({ status: 404, body: { error: { code: 'RP_API_NOT_FOUND' } } });
    expect((await call('GET', '/v1/blocklist', ADMIN)).body.entries).toEqual([]);
    const logs = JSON.stringify(api.logLines());
    expect(logs).toContain('blocklist entry added');
    expect(logs).not.toContain('+12025550142');
    expect(logs).not.toContain('Robo Dialer');
  });

  it('answers an app key 403 RP_API_ADMIN_REQUIRED on every blocklist route, and changes nothing', async () => {
    for (const [method, path, body] of [
      ['GET', '/v1/blocklist', undefined],
      ['POST', '/v1/blocklist', { kind: 'number', value: '+12025550143', reason: 'fraud' }],
      ['DELETE', '/v1/blocklist/number/%2B12025550143', undefined],
    ] as const) {
      const r = await call(method, path, APP, body);
      expect(r.status).toBe(403);
      expect(r.body.error).toMatchObject({ code: 'RP_API_ADMIN_REQUIRED', scope: 'admin' });
    }
    expect(await api.redis.hlen(`${api.prefix}:blocklist`)).toBe(0);
    // The app key still works where it belongs.
    expect((await call('POST', '/v1/verifications', APP, { phoneNumber: '+12025550144' })).status).toBe(201);
  });

  it('answers garbage with 400 naming the field, and stores nothing', async () => {
    const cases: Array<[unknown, string | undefined, string]> = [
      [{ kind: 'number', value: 'call me', reason: 'x' }, undefined, 'value'],
      [{ kind: 'colour', value: '+12025550145', reason: 'x' }, undefined, 'kind'],
      [{ kind: 'prefix', value: '+1', reason: 'not a token!' }, undefined, 'reason'],
      [{ kind: 'number', value: '+12025550145', reason: 'x', ttlSeconds: -4 }, undefined, 'ttlSeconds'],
      [{ kind: 'number', value: '+12025550145', reason: 'x', expiresAt: 12 }, undefined, 'expiresAt'],
      [{ kind: 'number', value: '+12025550145', reason: 'x', admin: true }, undefined, 'admin'],
      [undefined, '{"kind":', 'body'],
      [undefined, '"just a string"', 'body'],
    ];
    for (const [body, raw, field] of cases) {
      const r = await call('POST', '/v1/blocklist', ADMIN, body, raw);
      expect(r.status, JSON.stringify(body ?? raw)).toBe(400);
      expect(r.body.error.code).toBe('RP_API_VALIDATION');
      if (field !== 'body') expect(r.body.error.field).toBe(field);
    }
    expect(await call('DELETE', '/v1/blocklist/colour/x', ADMIN)).toMatchObject({ status: 400, body: { error: { field: 'kind' } } });
    expect(await call('DELETE', '/v1/blocklist/number/abc', ADMIN)).toMatchObject({ status: 400, body: { error: { field: 'value' } } });
    expect(await api.redis.hlen(`${api.prefix}:blocklist`)).toBe(0);
  });
});

describe('Edge with a blocklist', () => {
  /** `edges` edges on one metrics registry, one sink and one blocklist copy; call(i, from) answers an INVITE on edge i. */
  async function edgeRig(index: BlocklistIndex, edges = 1) {
    const { Edge } = await import('../../src/edge/edge.js');
    const { createMetrics } = await import('../../src/metrics/metrics.js');
    const { createBlocklistMetrics } = await import('../../src/abuse/blocklist-metrics.js');
    const { CollectingSink } = await import('../helpers/collecting-sink.js');
    const metrics = createMetrics({ defaults: false });
    const sink = new CollectingSink();
    const all = Array.from({ length: edges }, () => new Edge({
      config: { trunks: [{ name: 'carrier', sources: ['192.0.2.0/24'], defaultCountry: 'US', rejectCode: 486, cliSources: ['pai', 'from'] }], sip: { scannerUserAgents: [], unknownSource: 'reject' } },
      metrics, logger: logCapture('info').logger, sink, blocklist: { source: { current: index }, metrics: createBlocklistMetrics(metrics.registry) },
    }));
    const call = (i: number, from: string, callId: string): void => all[i]!.onInviteAnswered({
      source: { address: '192.0.2.1', port: 5060, transport: 'udp' }, callId, requestUri: 'sip:+15550100001@edge', receivedAt: Date.now(),
      headerValues: (n) => (n === 'from' ? [from] : []), header: (n) => (n === 'from' ? from : undefined),
    }, 'carrier', 486);
    return { metrics, sink, call };
  }

  it('marks the call event blocked (number, prefix, From display name) and counts it with its reason; other calls pass unmarked', async () => {
    const { metrics, sink, call: callOn } = await edgeRig(new BlocklistIndex([entry('number', '+12025550123', 'fraud'), entry('prefix', '+1303', 'irsf'), entry('name', 'Robo Dialer', 'cnam')]));
    const call = (from: string, callId: string): void => callOn(0, from, callId);
    call('<sip:+12025550123@carrier>;tag=1', 'a');
    call('<sip:+13035550100@carrier>;tag=1', 'b');
    call('"robo  DIALER" <sip:+12065550100@carrier>;tag=1', 'c');
    call('"Alice" <sip:+12065550100@carrier>;tag=1', 'd');
    call('Robo Dialer <sip:+12065550100@carrier>;tag=1', 'e');
    call('sip:+12065550100@carrier;tag=1', 'f');
    expect(sink.events.map((e) => e.blocked)).toEqual([
      { kind: 'number', value: '+12025550123', reason: 'fraud' },
      { kind: 'prefix', value: '+1303', reason: 'irsf' },
      { kind: 'name', value: 'Robo Dialer', reason: 'cnam' },
      undefined,
      { kind: 'name', value: 'Robo Dialer', reason: 'cnam' },
      undefined,
    ]);
    const counted = (await metrics.registry.getSingleMetric('ringproof_blocked_calls_total')!.get()).values;
    expect(counted.map((v) => [v.labels.kind, v.labels.reason, v.value])).toEqual([['number', 'fraud', 1], ['prefix', 'irsf', 1], ['name', 'cnam', 2]]);
  });

  it('counts blocked calls of several edges on one registry exactly at every read (counted in plain numbers between reads), and shares the event\'s block per entry', async () => {
    const { metrics, sink, call: callOn } = await edgeRig(new BlocklistIndex([entry('prefix', '+1303', 'irsf')]), 2);
    const call = (edge: number, i: number): void => callOn(edge, `<sip:+1303555${String(i).padStart(4, '0')}@carrier>;tag=1`, `c${i}`);
    const text = async (): Promise<string | undefined> => (await metrics.registry.metrics()).split('\n').find((l) => l.startsWith('ringproof_blocked_calls_total{'));
    for (let i = 0; i < 3; i++) call(0, i);
    call(1, 3);
    expect(await text()).toBe('ringproof_blocked_calls_total{kind="prefix",reason="irsf"} 4');
    expect(await text()).toBe('ringproof_blocked_calls_total{kind="prefix",reason="irsf"} 4');
    call(1, 4);
    const counted = (await metrics.registry.getSingleMetric('ringproof_blocked_calls_total')!.get()).values;
    expect(counted.map((v) => v.value)).toEqual([5]);
    expect(sink.events.map((e) => e.blocked)).toEqual(Array(5).fill({ kind: 'prefix', value: '+1303', reason: 'irsf' }));
    expect(sink.events[1]!.blocked).toBe(sink.events[2]!.blocked);
  });
});
