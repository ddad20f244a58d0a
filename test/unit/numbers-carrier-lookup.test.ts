import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/config/hash-api-key.js';
import { loadConfig } from '../../src/config/load-config.js';
import { RingproofError } from '../../src/errors/ringproof-error.js';
import { startApiHarness, type ApiHarness } from '../helpers/api-harness.js';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';

/**
 * The carrier lookup against a real HTTP server on loopback: a good one, a slow one, a failing one
 * and one that answers nonsense, under onError allow (fail-open) and refuse (fail-closed).
 */

type Mode = 'good' | 'slow' | 'error500' | 'not-json' | 'array' | 'unknown-type' | 'huge' | 'cut-off' | 'redirect';

const TOKEN = 'rp_carrier_token_0123456789abcdef';
const STRICT_TOKEN = 'rp_carrier_strict_fedcba98765432';
const LOOPBACK = ['127.0.0.0/8', '::1/128'];

let mode: Mode = 'good';
/** What the good server answers per number; default mobile. */
const answers = new Map<string, string>();
const asked: Array<{ phoneNumber: string; headers: IncomingMessage['headers']; method: string }> = [];
const slowResponses = new Set<ServerResponse>();
let lookupServer: Server;
let lookupUrl: string;
let testRedis: TestRedis;
let open: ApiHarness;
let closed: ApiHarness;
let noEgress: ApiHarness;
let next = 100;

/** A fresh valid US number (+1 202 555 01xx, the fictional lines of a real area code) per creation. */
function freshNumber(): string {
  return `+1202555${String(next++).padStart(4, '0')}`;
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { phoneNumber: string };
    asked.push({ phoneNumber: body.phoneNumber, headers: req.headers, method: req.method ?? '' });
    switch (mode) {
      case 'good':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ type: answers.get(body.phoneNumber) ?? 'mobile', carrier: 'Example Mobile', ported: true }));
        return;
      case 'slow':
        slowResponses.add(res); // never answered: the client's timeout must end it
        return;
      case 'error500':
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"error":"database down"}');
        return;
      case 'not-json':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('<html>hello</html>');
        return;
      case 'array':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('[{"type":"mobile"}]');
        return;
      case 'unknown-type':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"type":"satellite"}');
        return;
      case 'huge':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`{"type":"mobile","pad":"${'x'.repeat(100_000)}"}`);
        return;
      case 'cut-off':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
        res.write('{"type":"mob');
        setImmediate(() => res.socket?.destroy());
        return;
      case 'redirect':
        res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' });
        res.end();
    }
  });
}

const dir = mkdtempSync(join(tmpdir(), 'ringproof-carrier-'));

beforeAll(async () => {
  testRedis = await startTestRedis({ appendonly: false });
  lookupServer = createServer(handle);
  await new Promise<void>((r) => lookupServer.listen(0, '127.0.0.1', r));
  lookupUrl = `http://127.0.0.1:${(lookupServer.address() as AddressInfo).port}/v1/line-type?account=acme`;
  const keys = [
    { name: 'app', hash: hashApiKey(TOKEN) },
    { name: 'strict', hash: hashApiKey(STRICT_TOKEN), policy: { inbound_call: { voip: 'refuse' as const } } },
  ];
  const lookup = (onError: 'allow' | 'refuse', allowPrivateTargets = LOOPBACK) => ({
    url: lookupUrl, timeoutMs: 1500, // far above a loaded machine's loopback round trip: only the slow server times out
    cacheTtlSeconds: 3600, cacheSize: 1000, onError,
    headers: { authorization: 'Bearer lookup-secret' }, allowPrivateTargets,
  });
  open = await startApiHarness(testRedis, { keys, configure: (c) => { c.numbers.carrierLookup = lookup('allow'); } });
  closed = await startApiHarness(testRedis, { keys, configure: (c) => { c.numbers.carrierLookup = lookup('refuse'); } });
  // The lookup's own allow-list is empty here (the webhooks' allows loopback): every lookup is refused.
  noEgress = await startApiHarness(testRedis, { keys, configure: (c) => { c.numbers.carrierLookup = lookup('refuse', []); } });
});

afterAll(async () => {
  for (const res of slowResponses) res.destroy();
  await open?.close();
  await closed?.close();
  await noEgress?.close();
  lookupServer?.closeAllConnections();
  await new Promise<void>((r) => (lookupServer ? lookupServer.close(() => r()) : r()));
  if (testRedis) await stopAndClean(testRedis);
  rmSync(dir, { recursive: true, force: true });
});

async function create(h: ApiHarness, phoneNumber: string, token = TOKEN): Promise<{ status: number; body: any }> {
  const res = await fetch(`${h.baseUrl}/v1/verifications`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ phoneNumber }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: await res.json() };
}

async function lookups(h: ApiHarness, result: string): Promise<number> {
  const m = await h.registry.getSingleMetric('ringproof_number_carrier_lookups_total')!.get();
  return m.values.filter((v) => v.labels.result === result).reduce((s, v) => s + v.value, 0);
}

async function latencyCount(h: ApiHarness, result: string): Promise<number> {
  const m = await h.registry.getSingleMetric('ringproof_number_carrier_lookup_seconds')!.get();
  return m.values.filter((v) => (v as { metricName?: string }).metricName === 'ringproof_number_carrier_lookup_seconds_count' && v.labels.result === result)
    .reduce((s, v) => s + v.value, 0);
}

/** Session, phone and match keys (the expiry queue's own bookkeeping aside), sorted, to compare before/after. */
async function keysInRedis(h: ApiHarness): Promise<string[]> {
  return (await h.redis.keys(`${h.prefix}*`)).filter((k) => !k.startsWith(`${h.prefix}:expiry:`)).sort();
}

describe('carrier lookup: a good server', () => {
  it('asks with a JSON POST carrying the configured headers, and its type replaces the range type (source carrier)', async () => {
    mode = 'good';
    const n = freshNumber();
    const before = await lookups(open, 'ok');
    const res = await create(open, n);
    expect(res.status).toBe(201);
    expect(res.body.phoneNumberInfo).toEqual({ country: 'US', countryCallingCode: '1', type: 'mobile', valid: true, source: 'carrier' });
    const req = asked.find((a) => a.phoneNumber === n)!;
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers.authorization).toBe('Bearer lookup-secret');
    expect(await lookups(open, 'ok')).toBe(before + 1);
    expect(await latencyCount(open, 'ok')).toBeGreaterThanOrEqual(1);
    // The secret header and the URL's query never reach the log.
    const log = JSON.stringify(open.logLines());
    expect(log).not.toContain('lookup-secret');
    expect(log).not.toContain('account=acme');
  });

  it('refuses a number the carrier calls premium_rate though its range allows it (422, source carrier), storing nothing', async () => {
    mode = 'good';
    const n = freshNumber();
    answers.set(n, 'premium_rate');
    const stored = await keysInRedis(open);
    const res = await create(open, n);
    expect(res.status).toBe(422);
    expect(res.body.error).toEqual({
      code: 'RP_NUMBER_REFUSED', message: 'premium_rate numbers are not accepted for inbound_call', field: 'phoneNumber',
      rule: 'type_not_allowed', method: 'inbound_call', country: 'US', type: 'premium_rate', source: 'carrier',
    });
    expect(await keysInRedis(open)).toEqual(stored);
  });

  it('applies the key\'s policy to the carrier\'s type: a ported VoIP number is flagged for one key, refused for another', async () => {
    mode = 'good';
    const a = freshNumber();
    const b = freshNumber();
    answers.set(a, 'voip');
    answers.set(b, 'voip');
    const flagged = await create(open, a);
    expect(flagged.status).toBe(201);
    expect(flagged.body.phoneNumberInfo).toMatchObject({ type: 'voip', source: 'carrier', flags: ['voip'] });
    const refused = await create(open, b, STRICT_TOKEN);
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({ rule: 'voip_refused', type: 'voip', source: 'carrier' });
  });

  it('keeps the range classification when the carrier answers unknown', async () => {
    mode = 'good';
    const n = freshNumber();
    answers.set(n, 'unknown');
    const before = await lookups(open, 'unknown');
    const res = await create(open, n);
    expect(res.status).toBe(201);
    expect(res.body.phoneNumberInfo).toEqual({ country: 'US', countryCallingCode: '1', type: 'fixed_line_or_mobile', valid: true, source: 'ranges' });
    expect(await lookups(open, 'unknown')).toBe(before + 1);
  });

  it('answers a number asked again from the cache: no second request, counted as cache_hit', async () => {
    mode = 'good';
    const n = freshNumber();
    answers.set(n, 'premium_rate'); // refused, so the same number can be tried again with nothing stored
    const hits = await lookups(open, 'cache_hit');
    expect((await create(open, n)).status).toBe(422);
    expect((await create(open, n)).status).toBe(422);
    expect((await create(open, n)).status).toBe(422);
    expect(asked.filter((a) => a.phoneNumber === n)).toHaveLength(1);
    expect(await lookups(open, 'cache_hit')).toBe(hits + 2);
  });

  it('asks nothing for a number the ranges already refuse', async () => {
    const before = asked.length;
    const res = await create(open, '+449098790000'); // UK premium rate
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ rule: 'type_not_allowed', type: 'premium_rate' });
    expect(res.body.error.source).toBeUndefined();
    expect(asked.length).toBe(before);
  });
});

describe('carrier lookup: slow, failing and malformed servers', () => {
  const failures: Array<[Mode, string]> = [
    ['slow', 'timeout'],
    ['error500', 'http_error'],
    ['redirect', 'http_error'],
    ['not-json', 'bad_response'],
    ['array', 'bad_response'],
    ['unknown-type', 'bad_response'],
    ['huge', 'bad_response'],
    ['cut-off', 'bad_response'],
  ];

  it.each(failures)('%s server, onError allow: the range verdict stands, flagged lookup_failed, counted as %s', async (m, result) => {
    mode = m;
    const n = freshNumber();
    const before = await lookups(open, result);
    const res = await create(open, n);
    expect(res.status).toBe(201);
    expect(res.body.phoneNumberInfo).toEqual({
      country: 'US', countryCallingCode: '1', type: 'fixed_line_or_mobile', valid: true, source: 'ranges', flags: ['lookup_failed'],
    });
    expect(await lookups(open, result)).toBe(before + 1);
  });

  it.each(failures)('%s server, onError refuse: 503 RP_NUMBER_LOOKUP_FAILED naming %s, nothing stored', async (m, result) => {
    mode = m;
    const before = await lookups(closed, result);
    const stored = await keysInRedis(closed);
    const res = await create(closed, freshNumber());
    expect(res.status).toBe(503);
    expect(res.body.error).toEqual({
      code: 'RP_NUMBER_LOOKUP_FAILED', field: 'phoneNumber', lookup: result,
      message: `the carrier lookup failed (${result}) and numbers.carrierLookup.onError is refuse; try again later`,
    });
    expect(await keysInRedis(closed)).toEqual(stored);
    expect(await lookups(closed, result)).toBe(before + 1);
    expect(await latencyCount(closed, result)).toBeGreaterThanOrEqual(1);
  });

  it('does not cache a failure: once the server is back, the same number is asked again and accepted', async () => {
    const n = freshNumber();
    mode = 'error500';
    expect((await create(closed, n)).status).toBe(503);
    mode = 'good';
    const res = await create(closed, n);
    expect(res.status).toBe(201);
    expect(res.body.phoneNumberInfo).toMatchObject({ type: 'mobile', source: 'carrier' });
    expect(asked.filter((a) => a.phoneNumber === n)).toHaveLength(2);
  });

  it('the egress guard refuses a loopback lookup server its own allowPrivateTargets does not list (nothing sent)', async () => {
    mode = 'good';
    const n = freshNumber();
    const res = await create(noEgress, n);
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: 'RP_NUMBER_LOOKUP_FAILED', lookup: 'egress_refused' });
    expect(asked.some((a) => a.phoneNumber === n)).toBe(false);
    expect(await lookups(noEgress, 'egress_refused')).toBe(1);
  });
});

describe('numbers.carrierLookup configuration', () => {
  function load(yaml: string): ReturnType<typeof loadConfig> {
    const file = join(dir, `c${next++}.yaml`);
    writeFileSync(file, yaml);
    return loadConfig({ file, env: {} });
  }

  function problem(yaml: string): string {
    try {
      load(yaml);
    } catch (err) {
      expect(err).toBeInstanceOf(RingproofError);
      return (err as Error).message;
    }
    throw new Error('accepted');
  }

  it('is off by default, with the documented defaults', () => {
    expect(load('role: all\n').numbers.carrierLookup).toEqual({
      url: undefined, timeoutMs: 800, cacheTtlSeconds: 86_400, cacheSize: 100_000, onError: 'allow', headers: {}, allowPrivateTargets: [],
    });
  });

  it('reads a full setting', () => {
    const c = load([
      'numbers:', '  carrierLookup:', '    url: https://lookup.example.com/v1/line-type', '    timeoutMs: 500',
      '    cacheTtlSeconds: 600', '    cacheSize: 50', '    onError: refuse', '    headers: { Authorization: "Bearer x" }',
    ].join('\n')).numbers.carrierLookup;
    expect(c).toMatchObject({ url: 'https://lookup.example.com/v1/line-type', timeoutMs: 500, cacheTtlSeconds: 600, cacheSize: 50, onError: 'refuse', headers: { Authorization: 'Bearer x' } });
  });

  it('refuses a loopback URL unless its own allowPrivateTargets lists it, naming that key', () => {
    expect(problem('numbers:\n  carrierLookup:\n    url: http://127.0.0.1:9000/lookup\n'))
      .toMatch(/^numbers\.carrierLookup\.url: must not point at .*allow it with numbers\.carrierLookup\.allowPrivateTargets/);
    // webhooks.allowPrivateTargets does not open the lookup's way.
    expect(problem('webhooks:\n  allowPrivateTargets: [127.0.0.0/8]\nnumbers:\n  carrierLookup:\n    url: http://127.0.0.1:9000/lookup\n'))
      .toMatch(/numbers\.carrierLookup\.allowPrivateTargets/);
    expect(load('numbers:\n  carrierLookup:\n    url: http://127.0.0.1:9000/lookup\n    allowPrivateTargets: [127.0.0.0/8]\n').numbers.carrierLookup.url)
      .toBe('http://127.0.0.1:9000/lookup');
  });

  it.each([
    ['url: http://lookup.example.com/x', 'numbers.carrierLookup.url: must use https unless the host is loopback'],
    ['url: ftp://lookup.example.com/x', 'numbers.carrierLookup.url: must use https'],
    ['timeoutMs: 10', 'numbers.carrierLookup.timeoutMs: must be an integer from 50 to 10000'],
    ['onError: maybe', 'numbers.carrierLookup.onError: must be "allow" or "refuse"'],
    ['cacheSize: -1', 'numbers.carrierLookup.cacheSize: must be an integer from 0'],
    ['headers: { "bad header": x }', 'numbers.carrierLookup.headers.bad header: is not a valid HTTP header name'],
    ['headers: { Content-Type: text/plain }', 'numbers.carrierLookup.headers.Content-Type: is set by ringproof itself'],
    ['allowPrivateTargets: [nonsense]', 'numbers.carrierLookup.allowPrivateTargets[0]:'],
    ['onErorr: allow', 'numbers.carrierLookup.onErorr: unknown key (did you mean "onError"?)'],
  ])('refuses %s naming the key', (line, message) => {
    expect(problem(`numbers:\n  carrierLookup:\n    ${line}\n`)).toContain(message);
  });
});
