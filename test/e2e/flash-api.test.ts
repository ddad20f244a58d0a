import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { metricDelta } from '../helpers/metrics-scrape.js';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';
import { callMessages, ladder, scenarioVariant, startSippUas, type SippUas, type SippUasResult } from '../helpers/sipp-uas.js';
import { newWebhookSecret, placeCalls, startVerifyDaemon, verifyWebhook, waitUntil, type VerifiedWebhook, type VerifyDaemon } from '../helpers/verify-e2e.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * The flash-call API flow (issue #12) through a whole daemon (role all): POST /v1/verifications
 * with method flash_call, the worker's UAC ringing SIPp (the carrier and the phone, our uas-flash-*
 * scenarios) on the one configured trunk, the report, GET's SIP history, the signed webhooks at a
 * real receiver and the audit trail in the real Redis. One daemon for the file; each test starts
 * its own SIPp on the trunk's port.
 */
const SECRET = newWebhookSecret();
const PATTERN = '+44207946XXXX';
const MIN_RING_MS = 150;

let redis: TestRedis;
let admin: Redis;
let receiver: WebhookReceiver;
let daemon: VerifyDaemon;
let trunkPort: number;
let numberSeq = 10;
const carriers: SippUas[] = [];

beforeAll(async () => {
  redis = await startTestRedis({ appendonly: false });
  admin = new Redis(redis.url);
  receiver = await startWebhookReceiver();
  trunkPort = await freePort();
  daemon = await startVerifyDaemon({
    name: 'flash', role: 'all', redisUrl: redis.url, webhookSecret: SECRET, webhookUrl: receiver.url, dids: ['+15550100001'],
    configYaml: `
sip:
  t1Ms: 100
  t2Ms: 400
numbers:
  policy:
    flash_call:
      allowCountries: [US]
outbound:
  bindAddress: 127.0.0.1
  minRingMs: ${MIN_RING_MS}
  ringTimeoutMs: 1500
  maxQueueMs: 500
  reportAttempts: 3
  perNumber: { count: 2, windowSeconds: 600 }
  fallback: none
${trunkYaml(trunkPort)}`,
  });
}, 60_000);

function trunkYaml(port: number): string {
  return `  trunks:
    - name: carrier-a
      target: udp:127.0.0.1:${port}
      fromDomain: ringproof.test
      cps: 50
      cliPool: ["${PATTERN}"]
`;
}

afterAll(async () => {
  await daemon?.stop();
  await receiver?.close();
  admin?.disconnect();
  if (redis) await stopAndClean(redis);
});

afterEach(() => {
  for (const c of carriers.splice(0)) c.kill();
});

/** A fresh valid US number per test (the default flash_call policy takes fixed_line_or_mobile). */
function nextNumber(): string {
  return `+1202555${String(100 + numberSeq++).padStart(4, '0')}`;
}

async function carrier(scenario: string, keys: Record<string, string> = {}): Promise<SippUas> {
  const s = await startSippUas({ scenario, transport: 'udp', calls: 1, timeoutMs: 15_000, keys, port: trunkPort });
  carriers.push(s);
  return s;
}

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, any> }> {
  const r = await fetch(`${daemon.baseUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text === '' ? {} : JSON.parse(text) };
}

async function createFlash(phoneNumber: string): Promise<Record<string, any>> {
  const r = await api('POST', '/v1/verifications', { phoneNumber, method: 'flash_call', ttlSeconds: 60 });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  return r.json;
}

const report = (id: string, body: unknown) => api('POST', `/v1/verifications/${id}/report`, body);

/** The session's webhooks so far, signatures checked. */
function webhooksOf(id: string): VerifiedWebhook[] {
  return receiver.received.map((w) => verifyWebhook(SECRET, w)).filter((w) => w.sessionId === id);
}

async function waitWebhook(id: string, type: string): Promise<VerifiedWebhook> {
  return waitUntil(`${type} for ${id}`, () => webhooksOf(id).find((w) => w.type === type), 15_000, 50);
}

async function waitState(id: string, state: string): Promise<Record<string, any>> {
  return waitUntil(`flash state ${state}`, async () => {
    const r = await api('GET', `/v1/verifications/${id}`);
    return r.json.flashCall?.state === state ? r.json : undefined;
  }, 15_000, 50);
}

/** The session's evidence-trail entries, in order. */
async function auditOf(id: string): Promise<Array<{ type: string; data: Record<string, any> }>> {
  const entries = await admin.xrange('{ringproof}:audit', '-', '+');
  return entries
    .map(([, f]) => ({ type: f[f.indexOf('type') + 1] as string, data: JSON.parse(f[f.indexOf('data') + 1] as string) as Record<string, any> }))
    .filter((e) => e.data.id === id);
}

function sippDump(r: SippUasResult): string {
  return `exit ${r.exitCode}\n${r.stdout.slice(-1500)}\n${r.errors.slice(-1500)}`;
}

/** The caller ID our INVITE carried, as SIPp saw it. */
function cliOnWire(r: SippUasResult): string {
  const invite = r.wire.find((m) => m.method === 'INVITE');
  return /<sip:(\+\d+)@/.exec(invite?.header('From') ?? '')?.[1] ?? '';
}

describe('flash_call through the API', () => {
  it('creation answers what to recognise; 180, our CANCEL, 487; a wrong report, then the right one: verified, webhooks and audit', async () => {
    const sipp = await carrier('uas-flash-ring.xml');
    const phone = nextNumber();
    const before = await daemon.metrics();
    const created = await createFlash(phone);
    expect(created).toMatchObject({
      status: 'pending', method: 'flash_call', phoneNumber: phone,
      flashCall: { cliPatterns: [{ pattern: PATTERN, prefix: '+44207946', codeLength: 4 }], reportsLeft: 3, waitSeconds: 4, attempts: [] },
    });
    expect(created.callTo).toBeUndefined();
    expect(['queued', 'calling']).toContain(created.flashCall.state);

    const wire = await sipp.done;
    expect(wire.exitCode, sippDump(wire)).toBe(0);
    const cli = cliOnWire(wire);
    expect(cli).toMatch(/^\+44207946\d{4}$/);
    const invite = wire.wire.find((m) => m.method === 'INVITE')!;
    expect(ladder(callMessages(wire.wire, invite.callId))).toEqual(['in INVITE', 'out 100 INVITE', 'out 180 INVITE', 'in CANCEL', 'out 200 CANCEL', 'out 487 INVITE', 'in ACK']);
    expect(invite.text.split('\n')[0]).toBe(`INVITE sip:${phone}@127.0.0.1:${trunkPort};user=phone SIP/2.0`);

    const rang = await waitState(created.id, 'rang');
    const attempt = rang.flashCall.attempts[0];
    expect(rang.flashCall.attempts).toHaveLength(1);
    expect(attempt).toMatchObject({ trunk: 'carrier-a', cli: '+44207946XXXX', statuses: [100, 180, 487], finalStatus: 487, cancelSent: true, outcome: 'rang' });
    expect(attempt.postDialDelayMs).toBeGreaterThanOrEqual(0);
    expect(attempt.ringMs).toBeGreaterThanOrEqual(MIN_RING_MS - 10);

    const wrongCode = cli.slice(-4) === '0000' ? '0001' : '0000';
    const wrong = await report(created.id, { code: wrongCode });
    expect(wrong.status).toBe(422);
    expect(wrong.json.error).toMatchObject({ code: 'RP_REPORT_MISMATCH', reportsLeft: 2 });

    const right = await report(created.id, { cli });
    expect(right.status, JSON.stringify(right.json)).toBe(200);
    expect(right.json).toMatchObject({ id: created.id, status: 'verified', flashCall: { state: 'rang', reportsLeft: 2 } });
    // Once the session is over, GET shows the caller ID whole.
    expect(right.json.flashCall.attempts[0].cli).toBe(cli);

    const placed = await waitWebhook(created.id, 'verification.call_placed');
    expect(placed.body.data).toMatchObject({ attempt: { trunk: 'carrier-a' } });
    const ringing = await waitWebhook(created.id, 'verification.ringing');
    expect(ringing.body.data).toMatchObject({ attempt: { trunk: 'carrier-a' } });
    const verified = await waitWebhook(created.id, 'verification.verified');
    expect(verified.status).toBe('verified');
    expect(webhooksOf(created.id).filter((w) => w.type === 'verification.call_failed' || w.type === 'verification.expired')).toEqual([]);

    const trail = await auditOf(created.id);
    expect(trail.map((e) => e.type)).toEqual(['session.created', 'flash.attempt', 'flash.report', 'flash.report', 'session.verified']);
    expect(trail[1]!.data).toMatchObject({ trunk: 'carrier-a', cli, statuses: [100, 180, 487], finalStatus: 487, outcome: 'rang', cancelSent: true });
    expect(trail.filter((e) => e.type === 'flash.report').map((e) => e.data.matched)).toEqual([false, true]);

    const after = await daemon.metrics();
    expect(metricDelta(before, after, 'ringproof_flash_attempts_total', { trunk: 'carrier-a', outcome: 'rang', class: 'none' })).toBe(1);
    expect(metricDelta(before, after, 'ringproof_flash_post_dial_delay_seconds_count', { trunk: 'carrier-a' })).toBe(1);
    expect(metricDelta(before, after, 'ringproof_flash_ring_seconds_count', { trunk: 'carrier-a' })).toBe(1);
    expect(metricDelta(before, after, 'ringproof_flash_verified_total', { trunk: 'carrier-a', country: 'US' })).toBe(1);
  });

  it.each([
    ['486 Busy Here', 'busy', 'Q.850;cause=17;text="User busy"', 17],
    ['404 Not Found', 'invalid_number', 'Q.850;cause=1', 1],
    ['503 Service Unavailable', 'network', 'Q.850;cause=38', 38],
  ] as const)('an immediate %s: call_failed with class %s, then expired with the SMS hint at once; a report gets 410', async (final, cls, reason, cause) => {
    const sipp = await carrier(scenarioVariant('uas-flash-reject.xml', { '486 Busy Here': final }), { reason });
    const before = await daemon.metrics();
    const created = await createFlash(nextNumber());
    const wire = await sipp.done;
    expect(wire.exitCode, sippDump(wire)).toBe(0);

    const failed = await waitWebhook(created.id, 'verification.call_failed');
    expect(failed.body.data).toMatchObject({ attempt: { trunk: 'carrier-a', failureClass: cls, finalStatus: Number(final.slice(0, 3)), reason: { cause } } });
    const expired = await waitWebhook(created.id, 'verification.expired');
    expect(expired.body.data.fallback).toEqual({ suggested: 'sms', reason: `the flash call failed (${cls})` });
    expect(webhooksOf(created.id).map((w) => w.type).filter((t) => t === 'verification.ringing')).toEqual([]);

    const got = await api('GET', `/v1/verifications/${created.id}`);
    expect(got.json).toMatchObject({ status: 'expired', flashCall: { state: 'failed', failureClass: cls, attempts: [{ outcome: 'failed', failureClass: cls, cancelSent: false }] } });
    const late = await report(created.id, { code: '1234' });
    expect(late.status).toBe(410);
    expect(late.json.error).toMatchObject({ code: 'RP_REPORT_EXPIRED', field: 'id' });

    const trail = await auditOf(created.id);
    expect(trail.map((e) => e.type)).toEqual(['session.created', 'flash.attempt', 'session.expired']);
    expect(trail[1]!.data).toMatchObject({ outcome: 'failed', failureClass: cls, finalStatus: Number(final.slice(0, 3)) });
    expect(metricDelta(before, await daemon.metrics(), 'ringproof_flash_attempts_total', { trunk: 'carrier-a', outcome: 'failed', class: cls })).toBe(1);
  });

  it('a 200 crossing our CANCEL: ACK and BYE on the wire, verification.answered; a report still verifies', async () => {
    const sipp = await carrier('uas-flash-answer-race.xml');
    const created = await createFlash(nextNumber());
    const wire = await sipp.done;
    expect(wire.exitCode, sippDump(wire)).toBe(0);
    const invite = wire.wire.find((m) => m.method === 'INVITE')!;
    expect(ladder(callMessages(wire.wire, invite.callId))).toEqual([
      'in INVITE', 'out 100 INVITE', 'out 180 INVITE', 'in CANCEL', 'out 200 CANCEL', 'out 200 INVITE', 'in ACK', 'in BYE', 'out 200 BYE',
    ]);
    const answered = await waitWebhook(created.id, 'verification.answered');
    expect(answered.body.data).toMatchObject({ attempt: { outcome: 'answered', finalStatus: 200, cli: '+44207946XXXX' } });
    await waitState(created.id, 'answered');
    const ok = await report(created.id, { code: cliOnWire(wire).slice(-4) });
    expect(ok.status, JSON.stringify(ok.json)).toBe(200);
    expect(ok.json.status).toBe('verified');
    expect((await auditOf(created.id)).find((e) => e.type === 'flash.attempt')?.data).toMatchObject({ outcome: 'answered', finalStatus: 200 });
    // The answered-leak numerator: a billed call.
    expect((await daemon.metrics()).get('ringproof_flash_attempts_total', { outcome: 'answered' })).toBe(1);
  });
});

describe('bad input', () => {
  it('a report before the phone rang is refused (409, counts no try); three wrong ones fail the session', async () => {
    const sipp = await carrier('uas-flash-late-ring.xml');
    const created = await createFlash(nextNumber());
    // The carrier holds its 180 for 1.2 s.
    const early = await waitUntil('the call in progress', async () => {
      const r = await report(created.id, { code: '1234' });
      return r.status === 409 ? r : undefined;
    }, 5000, 50);
    expect(early.json.error).toMatchObject({ code: 'RP_REPORT_NOT_ACCEPTED', field: 'id' });
    expect(['queued', 'calling']).toContain(early.json.error.state);
    await sipp.done;
    const rang = await waitState(created.id, 'rang');
    expect(rang.flashCall.reportsLeft).toBe(3);

    const code = (await admin.hget(`{ringproof}:vrf:${created.id}`, 'flashCli'))!.slice(-4);
    const wrong = String((Number(code) + 1) % 10_000).padStart(4, '0');
    expect((await report(created.id, { code: wrong })).json.error.reportsLeft).toBe(2);
    expect((await report(created.id, { cli: `+44207946${wrong}` })).json.error.reportsLeft).toBe(1);
    const last = await report(created.id, { code: wrong });
    expect(last.status).toBe(422);
    expect(last.json.error).toMatchObject({ code: 'RP_REPORT_TRIES_EXHAUSTED', reportsLeft: 0 });
    const after = await report(created.id, { code });
    expect(after.status).toBe(409);
    expect(after.json.error).toMatchObject({ code: 'RP_REPORT_NOT_ACCEPTED', state: 'failed' });
    expect((await api('GET', `/v1/verifications/${created.id}`)).json.status).toBe('failed');
    expect((await auditOf(created.id)).map((e) => e.type).slice(-2)).toEqual(['flash.report', 'session.failed']);
  });

  it('malformed reports get 400 naming the field; unknown ids 404; an inbound session 409', async () => {
    const inbound = await api('POST', '/v1/verifications', { phoneNumber: nextNumber() });
    expect(inbound.status).toBe(201);
    const id = inbound.json.id as string;
    const cases: Array<[unknown, string]> = [
      [{}, 'cli'],
      [{ cli: '+442079460001', code: '0001' }, 'code'],
      [{ cli: '02079460001' }, 'cli'],
      [{ code: '12a4' }, 'code'],
      [{ code: '123456789' }, 'code'],
      [{ code: 1234 }, 'code'],
      [{ code: '1234', extra: 1 }, 'extra'],
    ];
    for (const [body, field] of cases) {
      const r = await report(id, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error, JSON.stringify(body)).toMatchObject({ code: 'RP_API_VALIDATION', field });
    }
    expect((await report('nope', { code: '1234' })).status).toBe(404);
    const notFlash = await report(id, { code: '1234' });
    expect(notFlash.status).toBe(409);
    expect(notFlash.json.error).toMatchObject({ code: 'RP_REPORT_NOT_ACCEPTED', state: 'inbound_call' });
  });

  it('a number the flash_call policy refuses (a fixed line) is never rung', async () => {
    const before = await countFlashJobs();
    expect(before).toBeGreaterThan(0);
    const r = await api('POST', '/v1/verifications', { phoneNumber: '+442079460123', method: 'flash_call' });
    expect(r.status).toBe(422);
    expect(r.json.error).toMatchObject({ code: 'RP_NUMBER_REFUSED', method: 'flash_call' });
    expect(await countFlashJobs()).toBe(before);
  });

  it('the per-destination throttle: a third flash call to one number in the window gets 429 with Retry-After, and is not rung', async () => {
    const sipp = await startSippUas({ scenario: 'uas-flash-reject.xml', transport: 'udp', calls: 2, timeoutMs: 15_000, keys: { reason: 'Q.850;cause=17' }, port: trunkPort });
    carriers.push(sipp);
    const phone = nextNumber();
    for (let i = 0; i < 2; i++) {
      const s = await createFlash(phone);
      await waitWebhook(s.id, 'verification.call_failed');
    }
    expect((await sipp.done).exitCode).toBe(0);
    const before = await countFlashJobs();
    const r = await fetch(`${daemon.baseUrl}/v1/verifications`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ phoneNumber: phone, method: 'flash_call' }),
    });
    const body = await r.json() as { error: Record<string, unknown> };
    expect(r.status).toBe(429);
    expect(body.error).toMatchObject({ code: 'RP_FLASH_THROTTLED', field: 'phoneNumber', count: 2, windowSeconds: 600 });
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(500);
    expect(await countFlashJobs()).toBe(before);
    // Another number, and an inbound session for this one, are not throttled.
    expect((await api('POST', '/v1/verifications', { phoneNumber: phone })).status).toBe(201);
  });

  it('a number outside the flash-call country allow-list is never rung; inbound sessions keep every country', async () => {
    const before = await countFlashJobs();
    const r = await api('POST', '/v1/verifications', { phoneNumber: '+447911123456', method: 'flash_call' });
    expect(r.status).toBe(422);
    expect(r.json.error).toMatchObject({ code: 'RP_NUMBER_REFUSED', rule: 'country_not_allowed', method: 'flash_call' });
    expect(await countFlashJobs()).toBe(before);
    expect((await api('POST', '/v1/verifications', { phoneNumber: '+447911123456' })).status).toBe(201);
  });
});

describe('fallback to the inbound flow (outbound.fallback: inbound_call)', () => {
  let redis2: TestRedis;
  let admin2: Redis;
  let daemon2: VerifyDaemon;
  let port2: number;
  const DID = '+15550100007';

  beforeAll(async () => {
    redis2 = await startTestRedis({ appendonly: false });
    admin2 = new Redis(redis2.url);
    port2 = await freePort();
    daemon2 = await startVerifyDaemon({
      name: 'flash-fallback', role: 'all', redisUrl: redis2.url, webhookSecret: SECRET, webhookUrl: receiver.url, dids: [DID],
      configYaml: `
outbound:
  bindAddress: 127.0.0.1
  minRingMs: ${MIN_RING_MS}
  ringTimeoutMs: 1500
  maxQueueMs: 500
  reportWindowSeconds: 1
${trunkYaml(port2)}`,
    });
  }, 60_000);

  afterAll(async () => {
    await daemon2?.stop();
    admin2?.disconnect();
    if (redis2) await stopAndClean(redis2);
  });

  it('a busy flash call: call_failed carries callTo, the user calls it and the session is verified by the inbound call', async () => {
    const sipp = await startSippUas({ scenario: 'uas-flash-reject.xml', transport: 'udp', calls: 1, timeoutMs: 15_000, keys: { reason: 'Q.850;cause=17' }, port: port2 });
    carriers.push(sipp);
    const phone = nextNumber();
    const r = await fetch(`${daemon2.baseUrl}/v1/verifications`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ phoneNumber: phone, method: 'flash_call' }),
    });
    expect(r.status).toBe(201);
    const created = await r.json() as { id: string };
    expect((await sipp.done).exitCode).toBe(0);

    const failed = await waitWebhook(created.id, 'verification.call_failed');
    expect(failed.body.data.verification).toMatchObject({ status: 'pending', callTo: DID, flashCall: { state: 'failed', failureClass: 'busy' } });
    const fellBack = await waitWebhook(created.id, 'verification.fallback');
    expect(fellBack.body.data.fallback).toEqual({ suggested: 'inbound_call', callTo: DID, reason: 'the flash call failed (busy)' });
    const fallback = await waitUntil('the flash.fallback audit entry', async () => {
      const entries = await admin2.xrange('{ringproof}:audit', '-', '+');
      return entries.map(([, f]) => JSON.parse(f[f.indexOf('data') + 1] as string) as Record<string, unknown>)
        .find((d) => d.id === created.id && d.callTo === DID);
    }, 5000, 50);
    expect(fallback).toMatchObject({ failureClass: 'busy', reason: 'failed' });

    const calls = await placeCalls({ scenario: 'uac-reject.xml', daemon: daemon2, rows: [{ cli: phone, did: DID }], timeoutMs: 15_000 });
    expect(calls.exitCode).toBe(0);
    const verified = await waitWebhook(created.id, 'verification.verified');
    expect(verified.body.data.verification).toMatchObject({ status: 'verified', method: 'flash_call', callTo: DID, flashCall: { state: 'failed' } });
    expect(webhooksOf(created.id).some((w) => w.type === 'verification.expired')).toBe(false);
  });

  /** A flash call on daemon2 that rings (180, our CANCEL, 487) and is not reported: the session falls back. */
  async function rangUnreported(): Promise<{ id: string; phone: string; cli: string; fellBack: VerifiedWebhook }> {
    const sipp = await startSippUas({ scenario: 'uas-flash-ring.xml', transport: 'udp', calls: 1, timeoutMs: 15_000, port: port2 });
    carriers.push(sipp);
    const phone = nextNumber();
    const r = await fetch(`${daemon2.baseUrl}/v1/verifications`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ phoneNumber: phone, method: 'flash_call' }),
    });
    expect(r.status).toBe(201);
    const { id } = await r.json() as { id: string };
    const wire = await sipp.done;
    expect(wire.exitCode, sippDump(wire)).toBe(0);
    const fellBack = await waitWebhook(id, 'verification.fallback');
    return { id, phone, cli: cliOnWire(wire), fellBack };
  }

  async function auditOf2(id: string): Promise<Array<{ type: string; data: Record<string, any> }>> {
    const entries = await admin2.xrange('{ringproof}:audit', '-', '+');
    return entries
      .map(([, f]) => ({ type: f[f.indexOf('type') + 1] as string, data: JSON.parse(f[f.indexOf('data') + 1] as string) as Record<string, any> }))
      .filter((e) => e.data.id === id);
  }

  it('a call that rang and is not reported within outbound.reportWindowSeconds falls back: verification.fallback with callTo, then the user calls it: verified', async () => {
    const { id, phone, fellBack } = await rangUnreported();
    expect(fellBack.body.data.fallback).toEqual({ suggested: 'inbound_call', callTo: DID, reason: 'the flash call was not reported within outbound.reportWindowSeconds' });
    expect(fellBack.body.data.verification).toMatchObject({ status: 'pending', callTo: DID, flashCall: { state: 'rang' } });
    // Not before the window: the ring was over at least a second earlier.
    const createdAt = Date.parse(String(fellBack.body.data.verification.createdAt));
    expect(Date.parse(String(fellBack.body.timestamp)) - createdAt).toBeGreaterThanOrEqual(1000);
    const trail = await waitUntil('the flash.fallback audit entry', async () => {
      const t = await auditOf2(id);
      return t.some((e) => e.type === 'flash.fallback') ? t : undefined;
    }, 5000, 50);
    expect(trail.map((e) => e.type)).toEqual(['session.created', 'flash.attempt', 'flash.fallback']);
    expect(trail[2]!.data).toMatchObject({ callTo: DID, reason: 'unreported', flashState: 'rang' });
    expect((await admin2.hget(`{ringproof}:vrf:${id}`, 'flashFallbackReason'))).toBe('unreported');

    const calls = await placeCalls({ scenario: 'uac-reject.xml', daemon: daemon2, rows: [{ cli: phone, did: DID }], timeoutMs: 15_000 });
    expect(calls.exitCode).toBe(0);
    const verified = await waitWebhook(id, 'verification.verified');
    expect(verified.body.data.verification).toMatchObject({ status: 'verified', method: 'flash_call', callTo: DID, flashCall: { state: 'rang' } });
    expect(webhooksOf(id).filter((w) => w.type === 'verification.fallback')).toHaveLength(1);
    expect(webhooksOf(id).some((w) => w.type === 'verification.expired')).toBe(false);
  });

  it('a late correct report after the fallback still verifies (the report proves the same thing); a second fallback run changes nothing', async () => {
    const { id, cli } = await rangUnreported();
    const late = await fetch(`${daemon2.baseUrl}/v1/verifications/${id}/report`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ cli }),
    });
    expect(late.status).toBe(200);
    expect(await late.json()).toMatchObject({ id, status: 'verified', callTo: DID });
    const verified = await waitWebhook(id, 'verification.verified');
    expect(verified.status).toBe('verified');
    // The fallback job run again (as a retry would) on the verified session: no second transition, no audit entry.
    const connection = admin2.duplicate({ maxRetriesPerRequest: null });
    const queue = new Queue('flash', { connection, prefix: '{ringproof}' });
    try {
      const job = await queue.add('fallback', { id }, { jobId: `fb_again_${id}` });
      const outcome = await waitUntil('the fallback job run again', async () => {
        // Read the job after it is seen completed: a job read before holds no return value yet.
        if ((await queue.getJobState(job.id!)) !== 'completed') return undefined;
        return (await queue.getJob(job.id!))?.returnvalue ?? undefined;
      }, 10_000, 50);
      expect(outcome).toBe('skipped');
    } finally {
      await queue.close();
      connection.disconnect();
    }
    expect(await admin2.hget(`{ringproof}:vrf:${id}`, 'status')).toBe('verified');
    const trail = await auditOf2(id);
    expect(trail.map((e) => e.type)).toEqual(['session.created', 'flash.attempt', 'flash.fallback', 'flash.report', 'session.verified']);
  });
});

/** Flash jobs BullMQ has seen (one per flash-call session created). */
async function countFlashJobs(): Promise<number> {
  return (await admin.keys('{ringproof}:flash:fl_*')).length;
}
