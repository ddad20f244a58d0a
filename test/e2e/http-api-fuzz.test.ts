import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/config/hash-api-key.js';
import { startDaemonProcess, type DaemonProcess } from '../helpers/daemon-process.js';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';

/*
 * Property-based fuzzing of every operation in the daemon's own OpenAPI document (the verification
 * routes, and the admin routes /v1/blocklist and /v1/dids with an admin key), against a real
 * daemon on a real Redis. For each generated request (valid or not: bodies, headers, query strings,
 * path parameters, credentials), the answer must be a status the document lists for that operation,
 * never a 5xx, with the documented body; the daemon must stay up; and a request answered 4xx must
 * leave every stored byte as it was.
 *
 * CI runs a short slice (RINGPROOF_FUZZ_RUNS, default 150); `npm run fuzz:http` runs a long one.
 * On failure fast-check prints the seed and path; replay with RINGPROOF_FUZZ_SEED=<seed>
 * (and RINGPROOF_FUZZ_PATH=<path>).
 */
const RUNS = Number(process.env.RINGPROOF_FUZZ_RUNS ?? 150);
const SEED = process.env.RINGPROOF_FUZZ_SEED !== undefined ? Number(process.env.RINGPROOF_FUZZ_SEED) : Date.now() ^ (Math.random() * 0x7fffffff);
const PATH = process.env.RINGPROOF_FUZZ_PATH;
const TOKEN = 'rp_fuzz_token_0123456789abcdef0123';
const OTHER_TOKEN = 'rp_fuzz_other_0123456789abcdef0123';
const BODY_LIMIT = 64 * 1024;

interface Operation {
  method: 'GET' | 'POST' | 'DELETE';
  operationId: string;
  /** OpenAPI path template, e.g. /v1/verifications/{id} */
  template: string;
  statuses: Set<number>;
  /** The documented response body of each status. */
  responses: Map<number, Record<string, any>>;
  hasBody: boolean;
  /** The request body must be present (a release or restore may come without one). */
  bodyRequired: boolean;
  bodySchema: Record<string, any> | undefined;
  /** An admin route (/v1/blocklist, /v1/dids): an app key gets 403. */
  admin: boolean;
}

interface FuzzRequest {
  op: Operation;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** Known to be invalid by construction: must be answered 4xx. */
  invalid: string | undefined;
}

let redis: TestRedis;
let admin: Redis;
let daemon: DaemonProcess;
let dir: string;
let operations: Operation[];
/** Ids of sessions the fuzz created (valid path parameters), plus ids that were never created. */
const knownIds: string[] = [];

beforeAll(async () => {
  redis = await startTestRedis({ appendonly: false });
  admin = new Redis(redis.url);
  dir = mkdtempSync(join(tmpdir(), 'ringproof-fuzz-'));
  const config = join(dir, 'fuzz.yaml');
  // Sessions outlive the run, so nothing changes state on its own while a request is judged.
  writeFileSync(config, 'verification:\n  minTtlSeconds: 3600\n  maxTtlSeconds: 7200\n  defaultTtlSeconds: 3600\n', { mode: 0o600 });
  daemon = await startDaemonProcess({
    configFile: config,
    env: {
      REDIS_URL: redis.url,
      RINGPROOF_EVENT_SINK: 'queue',
      RINGPROOF_LOG_LEVEL: 'warn',
      // The fuzz key is an admin (the admin routes are fuzzed too); the other one is an app key.
      RINGPROOF_API_KEYS: `fuzz:${hashApiKey(TOKEN)}:admin,other:${hashApiKey(OTHER_TOKEN)}`,
    },
  });
  const doc = (await (await fetch(`${daemon.baseUrl}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, any>>;
    components: { schemas: { Error: { properties: { error: { properties: Record<string, unknown> } } } } };
  };
  // The error body's members are the ones the spec documents (a number refusal adds rule, country, …).
  errorSchema = doc.components.schemas.Error as Record<string, any>;
  components = doc.components.schemas as Record<string, Record<string, any>>;
  operations = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'delete'].includes(method)) continue;
      const bodySchema = op.requestBody?.content?.['application/json']?.schema;
      operations.push({
        method: method.toUpperCase() as Operation['method'],
        operationId: op.operationId,
        template,
        statuses: new Set(Object.keys(op.responses).map(Number)),
        responses: new Map(Object.entries(op.responses as Record<string, any>).map(([s, r]) => [Number(s), r.content['application/json'].schema])),
        hasBody: bodySchema !== undefined,
        bodyRequired: op.requestBody?.required === true,
        bodySchema,
        admin: !template.startsWith('/v1/verifications'),
      });
    }
  }
  console.log(`HTTP API fuzz: ${RUNS} runs over ${operations.length} operations, seed ${SEED}${PATH ? ` path ${PATH}` : ''}`);
});

afterAll(async () => {
  await daemon?.stop();
  admin?.disconnect();
  if (redis) await stopAndClean(redis);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// --- what is stored ------------------------------------------------------------------------------

/**
 * A digest of every key and value in Redis, except the job queues' own bookkeeping: BullMQ's
 * stalled-job check and event stream change on their own, and its job counter (`:id`) moves on
 * every add, even one that is a no-op because the job exists (an idempotent replay answered 409
 * re-adds its session's expiry job that way, in case the first request died before adding it).
 */
async function storedState(): Promise<Map<string, string>> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await admin.scan(cursor, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  const kept = keys.filter((k) => !/:(stalled-check|events|stalled|meta|marker|id)$/.test(k)).sort();
  const state = new Map<string, string>();
  for (const k of kept) state.set(k, createHash('sha256').update(await canonicalValue(k)).digest('hex'));
  return state;
}

/** A key's value as text, independent of how Redis lays it out (a rewritten hash may reorder its fields). */
async function canonicalValue(key: string): Promise<string> {
  const type = await admin.type(key);
  const sorted = (pairs: string[]): string[][] => {
    const out: string[][] = [];
    for (let i = 0; i < pairs.length; i += 2) out.push([pairs[i]!, pairs[i + 1]!]);
    return out.sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0));
  };
  switch (type) {
    case 'string': return `s:${await admin.get(key)}`;
    case 'hash': return `h:${JSON.stringify(sorted(Object.entries(await admin.hgetall(key)).flat()))}`;
    case 'list': return `l:${JSON.stringify(await admin.lrange(key, 0, -1))}`;
    case 'set': return `S:${JSON.stringify((await admin.smembers(key)).sort())}`;
    case 'zset': return `z:${JSON.stringify(await admin.zrange(key, '0', '-1', 'WITHSCORES'))}`;
    case 'stream': return `x:${JSON.stringify(await admin.xrange(key, '-', '+'))}`;
    default: return `${type}`;
  }
}

/** The keys added, removed or changed between two snapshots (empty when nothing changed). */
function changedKeys(before: Map<string, string>, after: Map<string, string>): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((k) => before.get(k) !== after.get(k)).sort();
}

// --- generators ----------------------------------------------------------------------------------

const validPhone = fc.constantFrom('+15551234567', '+447700900123', '+4915123456789', '+33612345678', '+12025550123');
const weirdString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', '%00', '../../etc/passwd', '${jndi:ldap://x}', '<script>', "' OR 1=1 --", '\uFEFF+1555', '１２３'),
);
const weirdJson = fc.jsonValue({ maxDepth: 3 });

/** DIDs: the configured (demo) ones, one the fuzz may add, and one never in the pool. */
const validDid = fc.constantFrom('+15550100001', '+15550100002', '+15550100003', '+15550104007', '+15550109999');

/** A body the schema accepts: the documented properties with values in range. */
function validBody(op: Operation): fc.Arbitrary<Record<string, unknown>> {
  const schema = op.bodySchema as Record<string, any>;
  switch (op.operationId) {
    case 'createVerification': {
      const ttl = schema.properties.ttlSeconds;
      return fc.record({
        phoneNumber: validPhone,
        ttlSeconds: fc.integer({ min: ttl.minimum, max: ttl.maximum }),
        callbackUrl: fc.constantFrom('https://hooks.example.com/rp', 'https://app.example.org/cb?x=1'),
        metadata: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.oneof(fc.integer(), fc.string({ maxLength: 20 })), { maxKeys: 5 }),
        country: fc.constantFrom('US', 'GB', 'DE'),
        // Stricter than the default trust policy (tighten): always accepted.
        callerTrustPolicy: fc.record({ failed: fc.constant('reject'), minAttestation: fc.constantFrom('none', 'C', 'B', 'A'), requireNetworkAsserted: fc.boolean() }, { requiredKeys: [] }),
      }, { requiredKeys: ['phoneNumber'] });
    }
    case 'addBlocklistEntry':
      return fc.oneof(
        fc.record({ kind: fc.constant('number'), value: validPhone }),
        fc.record({ kind: fc.constant('prefix'), value: fc.constantFrom('+1202555', '+4477009', '+33') }),
        fc.record({ kind: fc.constant('name'), value: fc.constantFrom('Robo Caller', 'SPAM LIKELY', 'Zoë') }),
      ).chain((target) => fc.record({
        kind: fc.constant(target.kind), value: fc.constant(target.value), reason: fc.constantFrom('fraud', 'complaint', 'auto:test'),
        note: fc.string({ maxLength: 40 }), ttlSeconds: fc.integer({ min: 1, max: 86_400 }),
      }, { requiredKeys: ['kind', 'value', 'reason'] }));
    case 'reportFlashCall':
      return fc.oneof(fc.record({ cli: fc.constantFrom('+442079460042', '+15551234567') }), fc.record({ code: fc.constantFrom('0042', '12345678') }));
    case 'addDid':
      return fc.record({ did: validDid });
    case 'releaseDid':
      return fc.record({ reason: fc.constantFrom('burned', 'carrier change'), quarantineDays: fc.integer({ min: 0, max: 3650 }) }, { requiredKeys: [] });
    case 'restoreDid':
      return fc.record({ force: fc.boolean() }, { requiredKeys: [] });
    default:
      throw new Error(`no valid-body generator for ${op.operationId}: add one`);
  }
}

/** One property replaced by a wrong value, or an extra one added, or a required one removed. */
function brokenBody(op: Operation) {
  const schema = op.bodySchema as Record<string, any>;
  const props = Object.keys(schema.properties);
  const required: string[] = schema.required ?? [];
  return fc.tuple(validBody(op), fc.oneof(
    fc.record({ kind: fc.constant('wrong' as const), key: fc.constantFrom(...props), value: fc.oneof(weirdJson, weirdString) }),
    fc.record({ kind: fc.constant('extra' as const), key: fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !props.includes(k) && k !== '__proto__'), value: weirdJson }),
    ...(required.length > 0 ? [fc.record({ kind: fc.constant('missing' as const), key: fc.constantFrom(...required), value: fc.constant(null) })] : []),
  )).map(([body, change]) => {
    const b: Record<string, unknown> = { ...body };
    if (change.kind === 'missing') delete b[change.key];
    else b[change.key] = change.value;
    return { body: b, change };
  });
}

const weirdSegment = fc.oneof(
  { weight: 2, arbitrary: weirdString.filter((s) => s.length > 0) },
  { weight: 1, arbitrary: fc.constant('x'.repeat(300)) },
);

/** Each path parameter's values: mostly ones that name something, else garbage. */
const pathParams: Record<string, fc.Arbitrary<string>> = {
  id: fc.oneof({ weight: 3, arbitrary: fc.constant('@known') }, { weight: 1, arbitrary: fc.constant('vrf_aaaaaaaaaaaaaaaaaaaaaaaaaa') }, { weight: 3, arbitrary: weirdSegment }),
  did: fc.oneof({ weight: 4, arbitrary: validDid }, { weight: 1, arbitrary: fc.constant('+1 555 010 0001') }, { weight: 2, arbitrary: weirdSegment }),
  kind: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('number', 'prefix', 'name') }, { weight: 1, arbitrary: weirdSegment }),
  value: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('+12025550123', '+1202555', '+33', 'SPAM LIKELY') }, { weight: 2, arbitrary: weirdSegment }),
};

/** The template with each {parameter} filled, percent-encoded ('@known' stays for url()). */
function fillPath(template: string): fc.Arbitrary<string> {
  const names = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
  if (names.length === 0) return fc.constant(template);
  return fc.tuple(...names.map((n) => pathParams[n] ?? weirdSegment)).map((values) =>
    names.reduce((path, n, i) => path.replace(`{${n}}`, values[i] === '@known' ? '@known' : percentEncode(values[i] as string)), template));
}

const query = fc.oneof(
  { weight: 4, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), weirdString, { maxKeys: 3 }).map((q) => {
    const s = new URLSearchParams(q).toString();
    return s === '' ? '' : `?${s}`;
  }) },
  { weight: 1, arbitrary: fc.constantFrom('?', '?&&', '?a=%zz', '?ttlSeconds=1&phoneNumber=x', `?${'a='.repeat(500)}`) },
);

type Auth = { header: string | undefined; valid: boolean };
const auth: fc.Arbitrary<Auth> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ header: `Bearer ${TOKEN}`, valid: true }) },
  { weight: 1, arbitrary: fc.constant({ header: `Bearer ${OTHER_TOKEN}`, valid: true }) },
  { weight: 1, arbitrary: fc.constant({ header: undefined, valid: false }) },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.constantFrom('Bearer', 'Bearer ', `Basic ${TOKEN}`, `bearer${TOKEN}`, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, 'Bearer rp_'),
      fc.string({ maxLength: 60 }).map((s) => `Bearer ${s.replace(/[^\x21-\x7e]/g, '')}`).filter((h) => h !== `Bearer ${TOKEN}` && h !== `Bearer ${OTHER_TOKEN}`),
    ).map((header) => ({ header, valid: false })),
  },
);

const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ value: 'application/json', ok: true }) },
  { weight: 1, arbitrary: fc.constant({ value: 'application/json; charset=utf-8', ok: true }) },
  { weight: 2, arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', '', 'application/jsonx').map((value) => ({ value, ok: false })) },
  { weight: 1, arbitrary: fc.constant({ value: undefined, ok: false }) },
);

const idempotencyKey = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.constantFrom('k1', 'k2', 'order-42') },
  { weight: 1, arbitrary: fc.constant('k'.repeat(256)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')) },
);

type BodyCase = { text: string | undefined; invalid: string | undefined };
function body(op: Operation): fc.Arbitrary<BodyCase> {
  // fetch cannot send a body with GET.
  if (op.method === 'GET') return fc.constant({ text: undefined, invalid: undefined });
  if (!op.hasBody || !op.bodySchema) {
    return fc.oneof(
      { weight: 5, arbitrary: fc.constant({ text: undefined, invalid: undefined }) },
      { weight: 1, arbitrary: weirdJson.map((v) => ({ text: JSON.stringify(v), invalid: undefined })) },
    );
  }
  // null is a valid body where the schema allows it (a release without reason).
  const nullable = ([] as string[]).concat(op.bodySchema.type).includes('null');
  return fc.oneof(
    { weight: 4, arbitrary: validBody(op).map((b) => ({ text: JSON.stringify(b), invalid: undefined })) },
    { weight: 3, arbitrary: brokenBody(op).map(({ body: b, change }) => ({
      text: JSON.stringify(b),
      // A wrong value may still be valid (a string where a string goes); extra and missing never are.
      invalid: change.kind === 'wrong' ? undefined : `body: ${change.kind} ${change.key}`,
    })) },
    { weight: 1, arbitrary: weirdJson.filter((v) => (v === null && !nullable) || (v !== null && (typeof v !== 'object' || Array.isArray(v)))).map((v) => ({ text: JSON.stringify(v), invalid: 'body: not an object' })) },
    { weight: 1, arbitrary: fc.constantFrom('{', '{"phoneNumber":', '{"a":1}}', 'nul', '\u0000', '{"phoneNumber":"+15551234567",}').map((text) => ({ text, invalid: 'body: malformed JSON' })) },
    { weight: 1, arbitrary: fc.constant({ text: undefined, invalid: op.bodyRequired ? 'body: missing' : undefined }) },
    { weight: 1, arbitrary: fc.constant({ text: JSON.stringify({ phoneNumber: '+15551234567', metadata: { pad: 'x'.repeat(BODY_LIMIT) } }), invalid: 'body: too large' }) },
  );
}

// The verification routes are the public surface and get most of the runs; each admin route some.
const operation = fc.constant(null).chain(() => fc.oneof(...operations.map((op) => ({ weight: op.admin ? 1 : 6, arbitrary: fc.constant(op) }))));

const request: fc.Arbitrary<FuzzRequest> = operation.chain((op) =>
  fc.record({ path: fillPath(op.template), query, auth, contentType, idempotencyKey, body: body(op) }).map(({ path, query: q, auth: a, contentType: ct, idempotencyKey: ik, body: b }) => {
    const headers: Record<string, string> = {};
    if (a.header !== undefined) headers.authorization = a.header;
    // Content-Type only with a body, as clients do; a body with a wrong one must be refused.
    if (b.text !== undefined && ct.value !== undefined) headers['content-type'] = ct.value;
    // Only the create documents Idempotency-Key; elsewhere it is an unknown header, and ignored.
    const idempotent = op.operationId === 'createVerification';
    if (op.method === 'POST' && ik !== undefined) headers['idempotency-key'] = ik;
    const reasons: string[] = [];
    if (!a.valid) reasons.push('credentials');
    else if (op.admin && a.header !== `Bearer ${TOKEN}`) reasons.push('app key on an admin route');
    if (op.hasBody) {
      if (b.invalid) reasons.push(b.invalid);
      if (b.text !== undefined && !ct.ok) reasons.push(`content-type ${ct.value}`);
      if (idempotent && ik !== undefined && (ik.length === 0 || ik.length > 255)) reasons.push('idempotency-key length');
    }
    return {
      op,
      // Path parameters are sent percent-encoded (every UTF-8 byte that is not unreserved), as clients do.
      path,
      query: q,
      headers,
      body: b.text,
      invalid: reasons.length > 0 ? reasons.join(', ') : undefined,
    };
  }));

// --- the oracle ----------------------------------------------------------------------------------

function url(r: FuzzRequest): string {
  const known = knownIds.length > 0 ? knownIds[knownIds.length - 1]! : 'vrf_none';
  return `${daemon.baseUrl}${r.path.replace('@known', known)}${r.query}`;
}

function percentEncode(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9._~-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

let errorSchema: Record<string, any> = {};
/** operationIds answered 2xx at least once. */
const accepted = new Set<string>();
let components: Record<string, Record<string, any>> = {};

/**
 * Where `value` breaks the documented schema (the subset the document uses: $ref, type, enum,
 * required, properties, items, date-time), or undefined. Members the schema does not list are
 * refused: a body must say only what the document says it may.
 */
function schemaProblem(schema: Record<string, any>, value: unknown, at = 'body'): string | undefined {
  if (typeof schema.$ref === 'string') return schemaProblem(components[schema.$ref.split('/').pop() as string] as Record<string, any>, value, at);
  const types: string[] = schema.type === undefined ? [] : [].concat(schema.type);
  const typeOf = value === null ? 'null' : Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;
  if (types.length > 0 && !types.includes(typeOf) && !(typeOf === 'integer' && types.includes('number'))) return `${at}: ${typeOf} where ${types.join('|')} goes`;
  if (schema.enum && !schema.enum.includes(value)) return `${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`;
  if (schema.format === 'date-time' && typeof value === 'string' && Number.isNaN(Date.parse(value))) return `${at}: not a date-time`;
  if (typeOf === 'array' && schema.items) {
    for (const [i, item] of (value as unknown[]).entries()) {
      const p = schemaProblem(schema.items, item, `${at}[${i}]`);
      if (p) return p;
    }
  }
  if (typeOf === 'object' && schema.properties) {
    const o = value as Record<string, unknown>;
    for (const k of schema.required ?? []) if (!(k in o)) return `${at}.${k} missing`;
    for (const [k, v] of Object.entries(o)) {
      const s = schema.properties[k];
      if (s === undefined) {
        if (schema.additionalProperties === true) continue;
        return `${at}.${k} is not documented`;
      }
      const p = schemaProblem(s, v, `${at}.${k}`);
      if (p) return p;
    }
  }
  return undefined;
}

function isErrorBody(b: any): boolean {
  if (!b || typeof b !== 'object' || !b.error || typeof b.error !== 'object') return false;
  const e = b.error;
  return schemaProblem(errorSchema, b) === undefined && /^RP_[A-Z_]+$/.test(e.code) && e.message.length > 0;
}

function isVerification(v: any): boolean {
  return v && typeof v === 'object' && typeof v.id === 'string' && ['pending', 'verified', 'expired', 'cancelled', 'blocked'].includes(v.status)
    && typeof v.phoneNumber === 'string' && /^\+[1-9]\d{6,14}$/.test(v.phoneNumber) && typeof v.callTo === 'string'
    && !Number.isNaN(Date.parse(v.createdAt)) && !Number.isNaN(Date.parse(v.expiresAt));
}

async function check(r: FuzzRequest): Promise<void> {
  const before = await storedState();
  const res = await fetch(url(r), {
    method: r.op.method,
    headers: r.headers,
    ...(r.body !== undefined ? { body: r.body } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  const what = `${r.op.method} ${url(r)} → ${res.status} ${text.slice(0, 300)}`;
  expect(res.status, what).toBeLessThan(500);
  expect(r.op.statuses.has(res.status), `undocumented status: ${what}`).toBe(true);
  expect(res.headers.get('content-type') ?? '', what).toMatch(/^application\/json/);
  const parsed = JSON.parse(text);
  if (res.status < 300) accepted.add(r.op.operationId);
  if (res.status >= 400) {
    expect(isErrorBody(parsed), `error body: ${what}`).toBe(true);
    const changed = changedKeys(before, await storedState());
    expect(changed.join(' '), `a ${res.status} changed stored state (${changed.join(', ')}): ${what}`).toBe('');
  } else {
    expect(r.invalid, `accepted an invalid request (${r.invalid}): ${what}`).toBeUndefined();
    expect(schemaProblem(r.op.responses.get(res.status) as Record<string, any>, parsed), `documented body: ${what}`).toBeUndefined();
    if (r.op.template.startsWith('/v1/verifications')) {
      expect(isVerification(parsed), `verification body: ${what}`).toBe(true);
      if (res.status === 201) knownIds.push(parsed.id);
    }
  }
  if (r.invalid !== undefined) expect(res.status, `invalid (${r.invalid}): ${what}`).toBeGreaterThanOrEqual(400);
  expect(daemon.running(), 'the daemon exited').toBe(true);
}

describe('HTTP API fuzz (every OpenAPI operation, real daemon, real Redis)', () => {
  // Cases earlier runs found, kept as plain regressions: the router refused them in its own format.
  it.each([
    ['a path parameter over 100 characters', `/v1/verifications/${'x'.repeat(300)}`, 'a path parameter is too long'],
    ['bad percent-encoding in the path', '/v1/verifications/%zz', 'the URL path is not valid percent-encoding'],
  ])('%s gets a 400 in the API error shape', async (_label, path, message) => {
    const res = await fetch(`${daemon.baseUrl}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: 'RP_API_VALIDATION', message } });
  });

  it('a body on a DELETE with an unsupported type is a documented 415', async () => {
    const res = await fetch(`${daemon.baseUrl}/v1/verifications/vrf_x`, {
      method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/xml' }, body: '<x/>',
    });
    expect(res.status).toBe(415);
    expect(operations.find((o) => o.method === 'DELETE')!.statuses.has(415)).toBe(true);
  });

  it('answers every generated request with a documented status and body, never 5xx, and 4xx leaves state untouched', async () => {
    expect(operations.map((o) => `${o.method} ${o.template}`).sort()).toEqual([
      'DELETE /v1/blocklist/{kind}/{value}', 'DELETE /v1/verifications/{id}',
      'GET /v1/blocklist', 'GET /v1/dids', 'GET /v1/dids/{did}', 'GET /v1/verifications/{id}',
      'POST /v1/blocklist', 'POST /v1/dids', 'POST /v1/dids/{did}/release', 'POST /v1/dids/{did}/restore', 'POST /v1/dids/{did}/unflag',
      'POST /v1/verifications', 'POST /v1/verifications/{id}/report',
    ]);
    await fc.assert(fc.asyncProperty(request, check), {
      numRuns: RUNS,
      seed: SEED,
      ...(PATH !== undefined ? { path: PATH } : {}),
      // Shrinking replays requests against a server whose state has moved on; keep it short.
      endOnFailure: RUNS > 1000,
    });
    // The run exercised both sides: some requests were accepted, some refused; the admin routes too.
    expect(knownIds.length, `operations answered 2xx: ${[...accepted].join(", ")}`).toBeGreaterThan(0);
    expect(operations.filter((o) => o.admin && accepted.has(o.operationId)).length, `operations answered 2xx: ${[...accepted].join(', ')}`).toBeGreaterThan(1);
  });
});
