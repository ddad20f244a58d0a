/**
 * Verification through the whole system, with real processes: the built daemon (role all), a real
 * redis-server, real SIPp over UDP and TCP, and a real HTTP receiver for the signed webhooks.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import {
  SCENARIO_FROM_CLI, SCENARIO_RESEND_NEW_BRANCH, SCENARIO_RETRANSMISSION_PAIR, SCENARIO_WITHHELD,
  createVerification, getVerification, metricValue, newWebhookSecret, phoneNumbers, runSipp, scrape, sleep,
  spawnDaemon, tempDir, verifyWebhook, waitUntil, webhooksBySession,
  type DaemonProcess, type SippResult, type VerificationView, type VerifiedWebhook,
} from '../helpers/verify-e2e.js';

const DIDS = ['+15550100001', '+15550100002'];
// Short windows so the expiry path runs in seconds; the API range is otherwise the product's default.
const CONFIG_YAML = 'verification:\n  minTtlSeconds: 1\n  defaultTtlSeconds: 60\n  maxTtlSeconds: 300\n';

let redis: TestRedis;
let receiver: WebhookReceiver;
let daemon: DaemonProcess;
let state: { dir: string; remove(): void };
const secret = newWebhookSecret();
const numbers = phoneNumbers(11, 50);
let nextNumber = 0;
const takeNumber = (): string => numbers[nextNumber++] as string;
const otherDid = (did: string): string => DIDS.find((d) => d !== did) as string;

function expectSippOk(r: SippResult, calls: number): void {
  expect(r.exitCode, `SIPp exit code; stdout tail:\n${r.stdout.slice(-2000)}\n${r.stderr}`).toBe(0);
  expect(r.successful).toBe(calls);
  expect(r.failed).toBe(0);
}

async function outcomes(): Promise<Record<string, number>> {
  const text = await scrape(daemon.httpUrl);
  const out: Record<string, number> = {};
  for (const o of ['verified', 'unsolicited', 'withheld', 'duplicate', 'late', 'invalid']) {
    out[o] = metricValue(text, 'ringproof_call_outcomes_total', { outcome: o });
  }
  return out;
}

/** Waits until the outcome counters moved by at least `delta` from `before`, and returns the deltas. */
async function waitOutcomes(before: Record<string, number>, delta: Record<string, number>, timeoutMs = 10_000): Promise<Record<string, number>> {
  let last: Record<string, number> = {};
  try {
    return await waitUntil('call outcomes', async () => {
      const now = await outcomes();
      last = Object.fromEntries(Object.keys(now).map((k) => [k, (now[k] ?? 0) - (before[k] ?? 0)]));
      return Object.entries(delta).every(([k, v]) => (last[k] ?? 0) >= v) ? last : undefined;
    }, timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}; outcome deltas seen: ${JSON.stringify(last)}\n${daemon.output().slice(-3000)}`);
  }
}

function verifiedFor(sessionId: string): VerifiedWebhook[] {
  return webhooksBySession(secret, receiver.received, 'verification.verified').get(sessionId) ?? [];
}

async function waitVerifiedWebhook(sessionId: string, timeoutMs = 10_000): Promise<VerifiedWebhook> {
  return waitUntil(`verified webhook for ${sessionId}`, () => verifiedFor(sessionId)[0], timeoutMs, 20);
}

beforeAll(async () => {
  state = tempDir('flow');
  redis = await startTestRedis();
  receiver = await startWebhookReceiver();
  daemon = await spawnDaemon({
    name: 'all-in-one', role: 'all', redisUrl: redis.url, stateDir: state.dir,
    webhookSecret: secret, webhookUrl: receiver.url, dids: DIDS, configYaml: CONFIG_YAML,
  });
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  await receiver?.close();
  if (redis) await stopAndClean(redis);
  state?.remove();
});

describe('verification end to end (daemon role all, SIPp, webhook receiver)', () => {
  it('a call from the number to callTo over UDP verifies the session and sends one signed verified webhook', async () => {
    const phone = takeNumber();
    const s = await createVerification(daemon.httpUrl, { phoneNumber: phone, ttlSeconds: 120 });
    expect(s.status).toBe('pending');
    expect(DIDS).toContain(s.callTo);

    const sentAt = Date.now();
    expectSippOk(await runSipp({ scenario: SCENARIO_FROM_CLI, sipPort: daemon.sipPort as number, rows: [{ cli: phone, did: s.callTo }] }), 1);
    const w = await waitVerifiedWebhook(s.id);

    // verifyWebhook checked the signature with the standardwebhooks library; a wrong key must fail.
    const raw = receiver.received.find((r) => r.headers['webhook-id'] === w.webhookId);
    expect(raw).toBeDefined();
    expect(() => verifyWebhook(newWebhookSecret(), raw!)).toThrow();
    expect(w.type).toBe('verification.verified');
    expect(w.body.id).toBe(w.webhookId);
    expect(w.body.data.verification).toMatchObject({ id: s.id, status: 'verified', phoneNumber: phone, callTo: s.callTo });
    expect(raw!.receivedAt - sentAt).toBeLessThan(10_000);

    const got = await getVerification(daemon.httpUrl, s.id);
    expect(got.status).toBe('verified');
    expect(got.verifiedAt).toBeDefined();

    await sleep(500);
    expect(verifiedFor(s.id)).toHaveLength(1);
  });

  it('the same over TCP', async () => {
    const phone = takeNumber();
    const s = await createVerification(daemon.httpUrl, { phoneNumber: phone, ttlSeconds: 120 });
    expectSippOk(await runSipp({ scenario: SCENARIO_FROM_CLI, sipPort: daemon.sipPort as number, transport: 'tcp', rows: [{ cli: phone, did: s.callTo }] }), 1);
    const w = await waitVerifiedWebhook(s.id);
    expect(w.body.data.verification).toMatchObject({ id: s.id, status: 'verified', phoneNumber: phone });
    expect((await getVerification(daemon.httpUrl, s.id)).status).toBe('verified');
  });

  it('a webhook retried after a receiver failure keeps its id and body, and goes to the session callbackUrl', async () => {
    const flaky = await startWebhookReceiver({ failFirst: 1, failStatus: 503 });
    try {
      const phone = takeNumber();
      const s = await createVerification(daemon.httpUrl, { phoneNumber: phone, ttlSeconds: 120, callbackUrl: flaky.url });
      expectSippOk(await runSipp({ scenario: SCENARIO_FROM_CLI, sipPort: daemon.sipPort as number, rows: [{ cli: phone, did: s.callTo }] }), 1);
      const [first, second] = await flaky.waitFor(2, 15_000);
      expect(first!.status).toBe(503);
      expect(second!.status).toBe(200);
      const a = verifyWebhook(secret, first!);
      const b = verifyWebhook(secret, second!);
      expect(b.webhookId).toBe(a.webhookId);
      expect(b.body).toEqual(a.body);
      expect(a.sessionId).toBe(s.id);
      // Not sent to the default URL as well.
      expect(verifiedFor(s.id)).toHaveLength(0);
    } finally {
      await flaky.close();
    }
  });

  it('a wrong CLI, a wrong DID and a withheld CLI verify nothing; the right call afterwards does', async () => {
    const phone = takeNumber();
    const stranger = takeNumber();
    const s = await createVerification(daemon.httpUrl, { phoneNumber: phone, ttlSeconds: 120 });
    const before = await outcomes();

    expectSippOk(await runSipp({
      scenario: SCENARIO_FROM_CLI, sipPort: daemon.sipPort as number,
      rows: [{ cli: stranger, did: s.callTo }, { cli: phone, did: otherDid(s.callTo) }],
    }), 2);
    expectSippOk(await runSipp({ scenario: SCENARIO_WITHHELD, sipPort: daemon.sipPort as number, rows: [{ cli: phone, did: s.callTo }] }), 1);

    const d = await waitOutcomes(before, { unsolicited: 2, withheld: 1 });
    expect(d).toMatchObject({ unsolicited: 2, withheld: 1, verified: 0, late: 0 });
    expect((await getVerification(daemon.httpUrl, s.id)).status).toBe('pending');
    expect(verifiedFor(s.id)).toHaveLength(0);

    // The session was still open to the right call all along.
    expectSippOk(await runSipp({ scenario: SCENARIO_FROM_CLI, sipPort: daemon.sipPort as number, rows: [{ cli: phone, did: s.callTo }] }), 1);
    await waitVerifiedWebhook(s.id);
    expect((await getVerification(daemon.httpUrl, s.id)).status).toBe('verified');
  });

  it('no call in time: the expired webhook arrives with a fallback hint, and later calls are late', async () => {
    const pA = takeNumber();
    const pB = takeNumber();
    // A: called after expiresAt but before the expiry job ran; B: called after it expired.
    const a = await createVerification(daemon.httpUrl, { phoneNumber: pA, ttlSeconds: 1 });
    const b = await createVerification(daemon.httpUrl, { phoneNumber: pB, ttlSeconds: 1 });
    const before = await outcomes();
    await sleep(Math.max(0, Date.parse(a.expiresAt) - Date.now()) + 300);
    expectSippOk(await runSipp({ scenario: SCENARIO_FROM_CLI, sipPort: daemon.sipPort as number, rows: [{ cli: pA, did: a.callTo }] }), 1);

    const expired = await waitUntil('expired webhooks for both sessions', () => {
      const m = webhooksBySession(secret, receiver.received, 'verification.expired');
      return m.has(a.id) && m.has(b.id) ? m : undefined;
    }, 15_000, 50);
    for (const s of [a, b] as VerificationView[]) {
      const ws = expired.get(s.id)!;
      expect(ws).toHaveLength(1);
      const w = ws[0]!;
      expect(w.body.id).toBe(w.webhookId);
      expect(w.body.data.verification).toMatchObject({ id: s.id, status: 'expired', phoneNumber: s.phoneNumber });
      expect(w.body.data.fallback?.suggested).toBe('sms');
      expect((await getVerification(daemon.httpUrl, s.id)).status).toBe('expired');
    }

    expectSippOk(await runSipp({ scenario: SCENARIO_FROM_CLI, sipPort: daemon.sipPort as number, rows: [{ cli: pB, did: b.callTo }] }), 1);
    const d = await waitOutcomes(before, { late: 2 });
    expect(d).toMatchObject({ late: 2, verified: 0 });
    for (const s of [a, b]) {
      expect((await getVerification(daemon.httpUrl, s.id)).status).toBe('expired');
      expect(verifiedFor(s.id)).toHaveLength(0);
    }
  });

  it('duplicate INVITEs (a retransmission; a re-send with a new branch and the same Call-ID) verify once and send one webhook', async () => {
    const pR = takeNumber();
    const pN = takeNumber();
    const r = await createVerification(daemon.httpUrl, { phoneNumber: pR, ttlSeconds: 120 });
    const n = await createVerification(daemon.httpUrl, { phoneNumber: pN, ttlSeconds: 120 });
    const before = await outcomes();
    const eventsBefore = metricValue(await scrape(daemon.httpUrl), 'ringproof_call_events_total');

    const retxBefore = metricValue(await scrape(daemon.httpUrl), 'ringproof_sip_retransmissions_total', { kind: 'request_in' });
    const localPort = await freePort();
    const callIdPattern = `retx-${randomBytes(6).toString('hex')}@127.0.0.1`;
    for (const scenario of [SCENARIO_RETRANSMISSION_PAIR.original, SCENARIO_RETRANSMISSION_PAIR.retransmission]) {
      expectSippOk(await runSipp({ scenario, sipPort: daemon.sipPort as number, localPort, callIdPattern, rows: [{ cli: pR, did: r.callTo }] }), 1);
    }
    const afterRetx = await scrape(daemon.httpUrl);
    // The daemon saw the second INVITE as a retransmission of the first: one call event at the edge.
    expect(metricValue(afterRetx, 'ringproof_sip_retransmissions_total', { kind: 'request_in' }) - retxBefore).toBeGreaterThanOrEqual(1);
    expect(metricValue(afterRetx, 'ringproof_call_events_total') - eventsBefore).toBe(1);
    expectSippOk(await runSipp({ scenario: SCENARIO_RESEND_NEW_BRANCH, sipPort: daemon.sipPort as number, rows: [{ cli: pN, did: n.callTo }] }), 1);
    // And a second, separate call from the same number once verified (new Call-ID).
    await waitVerifiedWebhook(r.id);
    expectSippOk(await runSipp({ scenario: SCENARIO_FROM_CLI, sipPort: daemon.sipPort as number, rows: [{ cli: pR, did: r.callTo }] }), 1);
    await waitVerifiedWebhook(n.id);
    const d = await waitOutcomes(before, { verified: 2, duplicate: 1 });
    // Leave time for any second webhook to show up before counting.
    await sleep(1500);
    expect(d.verified).toBe(2);
    expect(((await outcomes()).verified ?? 0) - (before.verified ?? 0)).toBe(2);

    for (const s of [r, n]) {
      const ws = verifiedFor(s.id);
      expect(ws, `verified webhooks for ${s.id}`).toHaveLength(1);
      const got = await getVerification(daemon.httpUrl, s.id);
      expect(got.status).toBe('verified');
    }
    // Every delivery of any event carries a distinct webhook-id unless it is a retry of the same event.
    const ids = receiver.received.filter((x) => x.status === 200).map((x) => x.headers['webhook-id']);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
