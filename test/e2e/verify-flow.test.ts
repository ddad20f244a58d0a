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
  SCENARIO_FROM_CLI, SCENARIO_RESEND_NEW_BRANCH, SCENARIO_RETRANSMISSION_PAIR, SCENARIO_VERSTAT, SCENARIO_WITHHELD,
  createVerification, expectAllCallsRejected, getVerification, newWebhookSecret, phoneNumbers, placeCalls, sleep,
  startVerifyDaemon, verifyWebhook, waitUntil, webhooksBySession,
  type CallRow, type VerificationView, type VerifiedWebhook, type VerifyDaemon,
} from '../helpers/verify-e2e.js';

const DIDS = ['+15550100001', '+15550100002'];
// A 1 s minimum window so the expiry path runs in seconds (the product default is 60 s).
const CONFIG_YAML = 'verification:\n  minTtlSeconds: 1\n  defaultTtlSeconds: 60\n  maxTtlSeconds: 300\n';
const OUTCOMES = ['verified', 'unsolicited', 'withheld', 'duplicate', 'late', 'invalid', 'rejected'] as const;

let redis: TestRedis;
let receiver: WebhookReceiver;
let daemon: VerifyDaemon;
const secret = newWebhookSecret();
const numbers = phoneNumbers(11, 50);
let nextNumber = 0;
const takeNumber = (): string => numbers[nextNumber++] as string;
const otherDid = (did: string): string => DIDS.find((d) => d !== did) as string;

async function call(scenario: string, rows: CallRow[], transport: 'udp' | 'tcp' = 'udp'): Promise<void> {
  expectAllCallsRejected(await placeCalls({ scenario, daemon, rows, transport }), rows.length);
}

async function outcomes(): Promise<Record<string, number>> {
  const m = await daemon.metrics();
  return Object.fromEntries(OUTCOMES.map((o) => [o, m.get('ringproof_call_outcomes_total', { outcome: o })]));
}

/** Waits until the outcome counters moved by at least `delta` since `before`; returns the moves. */
async function waitOutcomes(before: Record<string, number>, delta: Record<string, number>, timeoutMs = 10_000): Promise<Record<string, number>> {
  let moved: Record<string, number> = {};
  try {
    return await waitUntil('call outcomes', async () => {
      const now = await outcomes();
      moved = Object.fromEntries(OUTCOMES.map((k) => [k, (now[k] ?? 0) - (before[k] ?? 0)]));
      return Object.entries(delta).every(([k, v]) => (moved[k] ?? 0) >= v) ? moved : undefined;
    }, timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}; outcome moves seen: ${JSON.stringify(moved)}\n${daemon.tail(40)}`);
  }
}

function verifiedFor(sessionId: string): VerifiedWebhook[] {
  return webhooksBySession(secret, receiver.received, 'verification.verified').get(sessionId) ?? [];
}

function waitVerifiedWebhook(sessionId: string, timeoutMs = 10_000): Promise<VerifiedWebhook> {
  return waitUntil(`verified webhook for ${sessionId}`, () => verifiedFor(sessionId)[0], timeoutMs, 20);
}

beforeAll(async () => {
  redis = await startTestRedis();
  receiver = await startWebhookReceiver();
  daemon = await startVerifyDaemon({
    name: 'all-in-one', role: 'all', redisUrl: redis.url,
    webhookSecret: secret, webhookUrl: receiver.url, dids: DIDS, configYaml: CONFIG_YAML,
  });
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  await receiver?.close();
  if (redis) await stopAndClean(redis);
});

describe('verification end to end (daemon role all, SIPp, webhook receiver)', () => {
  it('a call from the number to callTo over UDP verifies the session and sends one signed verified webhook', async () => {
    const phone = takeNumber();
    const s = await createVerification(daemon.baseUrl, { phoneNumber: phone, ttlSeconds: 120 });
    expect(s.status).toBe('pending');
    expect(DIDS).toContain(s.callTo);

    await call(SCENARIO_FROM_CLI, [{ cli: phone, did: s.callTo }]);
    const w = await waitVerifiedWebhook(s.id);

    // verifyWebhook checked the signature with the standardwebhooks library; another key must fail.
    const raw = receiver.received.find((r) => r.headers['webhook-id'] === w.webhookId);
    expect(raw).toBeDefined();
    expect(() => verifyWebhook(newWebhookSecret(), raw!)).toThrow();
    expect(w.type).toBe('verification.verified');
    expect(w.webhookId).toMatch(/^evt_/);
    expect(w.body.id).toBe(w.webhookId);
    expect(w.body.data.verification).toMatchObject({ id: s.id, status: 'verified', phoneNumber: phone, callTo: s.callTo });
    // The number policy's verdict at creation travels with the session into its webhooks.
    expect(w.body.data.verification.phoneNumberInfo).toEqual({ country: 'US', countryCallingCode: '1', type: 'fixed_line_or_mobile', valid: true, source: 'ranges' });

    const got = await getVerification(daemon.baseUrl, s.id);
    expect(got.status).toBe('verified');
    expect(got.verifiedAt).toBeDefined();

    await sleep(500);
    expect(verifiedFor(s.id)).toHaveLength(1);
  });

  it('the same over TCP', async () => {
    const phone = takeNumber();
    const s = await createVerification(daemon.baseUrl, { phoneNumber: phone, ttlSeconds: 120 });
    await call(SCENARIO_FROM_CLI, [{ cli: phone, did: s.callTo }], 'tcp');
    const w = await waitVerifiedWebhook(s.id);
    expect(w.body.data.verification).toMatchObject({ id: s.id, status: 'verified', phoneNumber: phone });
    expect((await getVerification(daemon.baseUrl, s.id)).status).toBe('verified');
  });

  it('a webhook retried after a receiver failure keeps its id and body, and goes to the session callbackUrl', async () => {
    const flaky = await startWebhookReceiver({ failFirst: 1, failStatus: 503 });
    try {
      const phone = takeNumber();
      const s = await createVerification(daemon.baseUrl, { phoneNumber: phone, ttlSeconds: 120, callbackUrl: flaky.url });
      await call(SCENARIO_FROM_CLI, [{ cli: phone, did: s.callTo }]);
      const [first, second] = await flaky.waitFor(2, 15_000);
      expect(first!.status).toBe(503);
      expect(second!.status).toBe(200);
      const a = verifyWebhook(secret, first!);
      const b = verifyWebhook(secret, second!);
      expect(a.sessionId).toBe(s.id);
      expect(b.webhookId).toBe(a.webhookId);
      expect(b.body).toEqual(a.body);
      // The session's callbackUrl replaces the default URL; it does not add to it.
      expect(verifiedFor(s.id)).toHaveLength(0);
    } finally {
      await flaky.close();
    }
  });

  it('a wrong CLI, a wrong DID and a withheld CLI verify nothing; the right call afterwards does', async () => {
    const phone = takeNumber();
    const stranger = takeNumber();
    const s = await createVerification(daemon.baseUrl, { phoneNumber: phone, ttlSeconds: 120 });
    const before = await outcomes();

    await call(SCENARIO_FROM_CLI, [{ cli: stranger, did: s.callTo }, { cli: phone, did: otherDid(s.callTo) }]);
    // The number is in P-Asserted-Identity, but Privacy: id withholds it.
    await call(SCENARIO_WITHHELD, [{ cli: phone, did: s.callTo }]);

    const moved = await waitOutcomes(before, { unsolicited: 2, withheld: 1 });
    expect(moved).toMatchObject({ unsolicited: 2, withheld: 1, verified: 0, late: 0 });
    expect((await getVerification(daemon.baseUrl, s.id)).status).toBe('pending');
    expect(verifiedFor(s.id)).toHaveLength(0);

    // The session was open to the right call all along.
    await call(SCENARIO_FROM_CLI, [{ cli: phone, did: s.callTo }]);
    await waitVerifiedWebhook(s.id);
    expect((await getVerification(daemon.baseUrl, s.id)).status).toBe('verified');
  });

  it('caller trust: spoofed calls (verstat TN-Validation-Failed) verify nothing, the genuine calls in the same run verify', async () => {
    const victims = [takeNumber(), takeNumber()];
    const genuine = [takeNumber(), takeNumber(), takeNumber()];
    // The attacker created sessions for the victims' numbers and calls callTo with their caller ID;
    // the carrier's verification service marked the caller ID as failed.
    const attacked = await Promise.all(victims.map((phoneNumber) => createVerification(daemon.baseUrl, { phoneNumber, ttlSeconds: 120 })));
    const honest = await Promise.all(genuine.map((phoneNumber) => createVerification(daemon.baseUrl, { phoneNumber, ttlSeconds: 120 })));
    const before = await outcomes();
    const refusalsBefore = (await daemon.metrics()).get('ringproof_caller_trust_refusals_total', { reason: 'caller_id_failed' });
    const verstats = ['TN-Validation-Passed', 'TN-Validation-Passed-A', 'No-TN-Validation'];
    await call(SCENARIO_VERSTAT, [
      ...attacked.map((s) => ({ cli: s.phoneNumber, did: s.callTo, more: ['TN-Validation-Failed'] })),
      ...honest.map((s, i) => ({ cli: s.phoneNumber, did: s.callTo, more: [verstats[i] as string] })),
      // the same spoof again, over TCP below as well: still nothing
      { cli: attacked[0]!.phoneNumber, did: attacked[0]!.callTo, more: ['tn-validation-failed'] },
    ]);
    await call(SCENARIO_VERSTAT, attacked.map((s) => ({ cli: s.phoneNumber, did: s.callTo, more: ['TN-Validation-Failed'] })), 'tcp');

    const moved = await waitOutcomes(before, { rejected: 5, verified: 3 });
    expect(moved).toMatchObject({ rejected: 5, verified: 3, unsolicited: 0 });
    const hooks = await Promise.all(honest.map((s) => waitVerifiedWebhook(s.id)));
    const pai = { cliSource: 'pai', networkAsserted: true };
    expect(hooks.map((w) => w.body.data.verification.callerTrust)).toEqual([
      { result: 'pass', verstat: 'passed', attest: null, ...pai },
      { result: 'pass', verstat: 'passed-A', attest: 'A', ...pai },
      { result: 'none', verstat: 'no-validation', attest: null, ...pai },
    ]);
    for (const s of attacked) {
      const got = await getVerification(daemon.baseUrl, s.id);
      expect(got.status).toBe('pending');
      expect(got.lastRejection?.reason).toBe('caller_id_failed');
      expect(verifiedFor(s.id)).toHaveLength(0);
    }
    const refusals = (await daemon.metrics()).get('ringproof_caller_trust_refusals_total', { reason: 'caller_id_failed' });
    expect(refusals - refusalsBefore).toBe(5);
  });

  it('per-verification callerTrustPolicy: each session\'s own policy decides its calls in the same run; a looser one is refused at creation', async () => {
    const create = (policy?: Record<string, unknown>) =>
      createVerification(daemon.baseUrl, { phoneNumber: takeNumber(), ttlSeconds: 120, ...(policy ? { callerTrustPolicy: policy } : {}) });
    const strict = await create({ minAttestation: 'B' });
    const asserted = await create({ requireNetworkAsserted: true });
    const plain = await create();
    expect(strict.callerTrustPolicy).toEqual({ failed: 'reject', minAttestation: 'B', requireNetworkAsserted: false });
    // The deployment rejects failed caller IDs and trust.perVerification is tighten: an app cannot relax that.
    const loose = await fetch(`${daemon.baseUrl}/v1/verifications`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phoneNumber: takeNumber(), callerTrustPolicy: { failed: 'accept' } }),
    });
    expect(loose.status).toBe(422);
    expect(((await loose.json()) as { error: { code: string; field: string } }).error).toMatchObject({ code: 'RP_CALLER_TRUST_POLICY_REFUSED', field: 'callerTrustPolicy.failed' });

    const before = await outcomes();
    // The same verstat (Passed-C in PAI) for the strict and the plain session; a From-only CLI for the asserted one.
    await call(SCENARIO_VERSTAT, [
      { cli: strict.phoneNumber, did: strict.callTo, more: ['TN-Validation-Passed-C'] },
      { cli: plain.phoneNumber, did: plain.callTo, more: ['TN-Validation-Passed-C'] },
    ]);
    await call(SCENARIO_FROM_CLI, [{ cli: asserted.phoneNumber, did: asserted.callTo }]);
    expect(await waitOutcomes(before, { rejected: 2, verified: 1 })).toMatchObject({ rejected: 2, verified: 1 });
    expect((await waitVerifiedWebhook(plain.id)).body.data.verification.callerTrust).toMatchObject({ verstat: 'passed-C', attest: 'C' });
    expect(await getVerification(daemon.baseUrl, strict.id)).toMatchObject({ status: 'pending', lastRejection: { reason: 'caller_id_attestation_low' } });
    expect(await getVerification(daemon.baseUrl, asserted.id)).toMatchObject({ status: 'pending', lastRejection: { reason: 'caller_id_not_asserted' } });

    // The genuine calls: attestation B, and a caller ID the trunk asserted in PAI.
    await call(SCENARIO_VERSTAT, [
      { cli: strict.phoneNumber, did: strict.callTo, more: ['TN-Validation-Passed-B'] },
      { cli: asserted.phoneNumber, did: asserted.callTo, more: ['No-TN-Validation'] },
    ], 'tcp');
    const [ws, wa] = await Promise.all([waitVerifiedWebhook(strict.id), waitVerifiedWebhook(asserted.id)]);
    expect(ws.body.data.verification).toMatchObject({ callerTrustPolicy: { minAttestation: 'B' }, callerTrust: { verstat: 'passed-B', attest: 'B' } });
    expect(wa.body.data.verification).toMatchObject({ callerTrustPolicy: { requireNetworkAsserted: true }, callerTrust: { cliSource: 'pai', networkAsserted: true } });
    const refusals = (await daemon.metrics());
    expect(refusals.get('ringproof_caller_trust_refusals_total', { reason: 'caller_id_not_asserted' })).toBe(1);
  });

  it('no call in time: the expired webhook arrives with a fallback hint, and later calls are late', async () => {
    const pA = takeNumber();
    const pB = takeNumber();
    // A is called after expiresAt but before its expiry job ran; B after it expired.
    const a = await createVerification(daemon.baseUrl, { phoneNumber: pA, ttlSeconds: 1 });
    const b = await createVerification(daemon.baseUrl, { phoneNumber: pB, ttlSeconds: 1 });
    const before = await outcomes();
    await sleep(Math.max(0, Date.parse(a.expiresAt) - Date.now()) + 300);
    await call(SCENARIO_FROM_CLI, [{ cli: pA, did: a.callTo }]);

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
      expect((await getVerification(daemon.baseUrl, s.id)).status).toBe('expired');
    }

    await call(SCENARIO_FROM_CLI, [{ cli: pB, did: b.callTo }]);
    const moved = await waitOutcomes(before, { late: 2 });
    expect(moved).toMatchObject({ late: 2, verified: 0 });
    for (const s of [a, b]) {
      expect((await getVerification(daemon.baseUrl, s.id)).status).toBe('expired');
      expect(verifiedFor(s.id)).toHaveLength(0);
    }
  });

  it('duplicate INVITEs (a UDP retransmission; a re-send with a new branch and the same Call-ID) verify once and send one webhook', async () => {
    const pR = takeNumber();
    const pN = takeNumber();
    const r = await createVerification(daemon.baseUrl, { phoneNumber: pR, ttlSeconds: 120 });
    const n = await createVerification(daemon.baseUrl, { phoneNumber: pN, ttlSeconds: 120 });
    const before = await outcomes();
    const m0 = await daemon.metrics();

    // Same INVITE twice, from the same port, same Call-ID, branch and tag (see the scenario's comment).
    const localPort = await freePort();
    const callIdPattern = `retx-${randomBytes(6).toString('hex')}@127.0.0.1`;
    for (const scenario of [SCENARIO_RETRANSMISSION_PAIR.original, SCENARIO_RETRANSMISSION_PAIR.retransmission]) {
      expectAllCallsRejected(await placeCalls({ scenario, daemon, localPort, callIdPattern, rows: [{ cli: pR, did: r.callTo }] }), 1);
    }
    const m1 = await daemon.metrics();
    // The daemon took the second INVITE for a retransmission: one call event at the edge.
    expect(m1.get('ringproof_sip_retransmissions_total', { kind: 'request_in' }) - m0.get('ringproof_sip_retransmissions_total', { kind: 'request_in' })).toBeGreaterThanOrEqual(1);
    expect(m1.get('ringproof_call_events_total') - m0.get('ringproof_call_events_total')).toBe(1);

    await call(SCENARIO_RESEND_NEW_BRANCH, [{ cli: pN, did: n.callTo }]);
    // And a separate call (new Call-ID) from the same number once verified.
    await waitVerifiedWebhook(r.id);
    await call(SCENARIO_FROM_CLI, [{ cli: pR, did: r.callTo }]);
    await waitVerifiedWebhook(n.id);
    await waitOutcomes(before, { verified: 2, duplicate: 1 });
    // Room for a wrong second webhook or outcome to show up before counting.
    await sleep(1500);
    const moved = await waitOutcomes(before, {});
    expect(moved.verified).toBe(2);
    for (const s of [r, n]) {
      expect(verifiedFor(s.id), `verified webhooks for ${s.id}`).toHaveLength(1);
      expect((await getVerification(daemon.baseUrl, s.id)).status).toBe('verified');
    }
    // Apart from retries of one event (the 503 test above), no two deliveries share a webhook-id.
    const ids = receiver.received.filter((x) => x.status === 200).map((x) => x.headers['webhook-id']);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
