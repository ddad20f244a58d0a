/**
 * STIR/SHAKEN Identity verification end to end: the built daemon (role all) with trust anchors and a
 * provisioned certificate directory from a PKI made at test time (openssl), real redis-server, SIPp
 * sending INVITEs with Identity headers signed at test time (jose), and a webhook receiver. Spoofed
 * calls for sessions the attacker created verify nothing; the genuine calls in the same run verify.
 */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';
import { signPassport, StiPki, type Issued, type PassportClaims } from '../helpers/sti-pki.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import {
  SCENARIO_IDENTITY, createVerification, expectAllCallsRejected, getVerification, newWebhookSecret, phoneNumbers, placeCalls,
  startVerifyDaemon, waitUntil, webhooksBySession, type CallRow, type VerificationView, type VerifyDaemon,
} from '../helpers/verify-e2e.js';

const DIDS = ['+15550100001', '+15550100002'];
const X5U = 'https://cr.example.net/sti/sp.pem';

let redis: TestRedis;
let receiver: WebhookReceiver;
let daemon: VerifyDaemon;
let pki: StiPki;
let sp: Issued;
const secret = newWebhookSecret();
const numbers = phoneNumbers(23, 20);

const digits = (e164: string): string => e164.slice(1);

async function passport(s: VerificationView, claims: PassportClaims = {}, key = sp.key): Promise<string> {
  return signPassport(key, X5U, { orig: { tn: digits(s.phoneNumber) }, dest: { tn: DIDS.map(digits) }, ...claims });
}

const row = (s: VerificationView, token: string): CallRow => ({ cli: s.phoneNumber, did: s.callTo, more: [token, X5U] });

async function call(rows: CallRow[]): Promise<void> {
  expectAllCallsRejected(await placeCalls({ scenario: SCENARIO_IDENTITY, daemon, rows }), rows.length);
}

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  return (await daemon.metrics()).get(name, labels);
}

beforeAll(async () => {
  pki = new StiPki();
  const root = pki.root();
  const inter = pki.issue(root, { cn: 'STI intermediate', ca: true });
  sp = pki.issue(inter, { cn: 'SHAKEN 1234', tnAuthList: 'spc=EXPLICIT:0,IA5STRING:1234' });
  const certificateDir = `${pki.dir}/provisioned`;
  pki.provision(certificateDir, X5U, sp.cert + inter.cert);
  redis = await startTestRedis();
  receiver = await startWebhookReceiver();
  daemon = await startVerifyDaemon({
    name: 'identity', role: 'all', redisUrl: redis.url, webhookSecret: secret, webhookUrl: receiver.url, dids: DIDS,
    // perVerification any: one test relaxes a session's policy through the API.
    configYaml: `trust:\n  perVerification: any\n  identity:\n    anchorsFile: ${root.certFile}\n    certificateDir: ${certificateDir}\n    fetchX5u: false\n`,
  });
}, 90_000);

afterAll(async () => {
  await daemon?.stop();
  await receiver?.close();
  if (redis) await stopAndClean(redis);
  pki?.remove();
});

describe('STIR/SHAKEN Identity (trust.identity)', () => {
  it('bad PASSporTs verify nothing; valid ones verify, with the verdict in the webhook; a replay is refused', async () => {
    const sessions = await Promise.all(numbers.slice(0, 8).map((phoneNumber) => createVerification(daemon.baseUrl, { phoneNumber, ttlSeconds: 120 })));
    const [good, goodC, wrongKey, wrongOrig, stale, future, malformed, wrongDest] = sessions as [VerificationView, ...VerificationView[]];
    const otherKey = createPrivateKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const now = Math.floor(Date.now() / 1000);
    const goodToken = await passport(good);
    const rejectedBefore = await metric('ringproof_call_outcomes_total', { outcome: 'rejected' });
    await call([
      row(good, goodToken),
      row(goodC!, await passport(goodC!, { attest: 'C' })),
      row(wrongKey!, await passport(wrongKey!, {}, otherKey)),
      row(wrongOrig!, await passport(wrongOrig!, { orig: { tn: '15559999999' } })),
      row(stale!, await passport(stale!, { iat: now - 300 })),
      row(future!, await passport(future!, { iat: now + 300 })),
      row(malformed!, 'abc.def.ghi'),
      row(wrongDest!, await passport(wrongDest!, { dest: { tn: ['15550109999'] } })),
    ]);

    const verified = (id: string) => webhooksBySession(secret, receiver.received, 'verification.verified').get(id) ?? [];
    const [w1, w2] = await Promise.all([good, goodC!].map((s) => waitUntil(`verified ${s.id}`, () => verified(s.id)[0], 15_000, 20)));
    expect(w1!.body.data.verification.callerTrust).toEqual({
      result: 'pass', verstat: 'absent', attest: 'A', identity: 'valid', spc: '1234', cliSource: 'pai', networkAsserted: true,
    });
    expect(w2!.body.data.verification.callerTrust).toMatchObject({ result: 'pass', attest: 'C', identity: 'valid' });
    await waitUntil('6 rejected calls', async () => (await metric('ringproof_call_outcomes_total', { outcome: 'rejected' })) - rejectedBefore >= 6 || undefined, 15_000);
    for (const s of [wrongKey, wrongOrig, stale, future, malformed, wrongDest]) {
      const got = await getVerification(daemon.baseUrl, s!.id);
      expect(got.status, s!.phoneNumber).toBe('pending');
      expect(got.lastRejection?.reason).toBe('caller_id_failed');
      expect(verified(s!.id)).toHaveLength(0);
    }
    const reasons = ['signature_invalid', 'orig_mismatch', 'stale', 'future', 'passport_malformed', 'dest_mismatch'];
    for (const reason of reasons) {
      expect(await metric('ringproof_caller_trust_verdicts_total', { result: 'fail', reason, verifies: 'false' }), reason).toBe(1);
    }

    // The valid PASSporT replayed on another call (a new session for the same number): refused.
    const again = await createVerification(daemon.baseUrl, { phoneNumber: good.phoneNumber, ttlSeconds: 120 });
    await call([row(again, goodToken)]);
    await waitUntil('replay refused', async () => (await metric('ringproof_caller_trust_verdicts_total', { result: 'fail', reason: 'replayed', verifies: 'false' })) === 1 || undefined, 15_000);
    const after = await getVerification(daemon.baseUrl, again.id);
    expect(after).toMatchObject({ status: 'pending', lastRejection: { reason: 'caller_id_failed' } });
  });

  it('a session\'s callerTrustPolicy judges the verified PASSporT: attestation B is refused under minAttestation A, then A verifies; a relaxed session takes a bad one', async () => {
    const [strictNumber, looseNumber, plainNumber] = numbers.slice(8, 11) as [string, string, string];
    const strict = await createVerification(daemon.baseUrl, { phoneNumber: strictNumber, ttlSeconds: 120, callerTrustPolicy: { minAttestation: 'A' } });
    // trust.perVerification any: this app accepts a failed caller ID for its session and reads callerTrust itself.
    const loose = await createVerification(daemon.baseUrl, { phoneNumber: looseNumber, ttlSeconds: 120, callerTrustPolicy: { failed: 'accept' } });
    const plain = await createVerification(daemon.baseUrl, { phoneNumber: plainNumber, ttlSeconds: 120 });
    const otherKey = createPrivateKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const verified = (id: string) => webhooksBySession(secret, receiver.received, 'verification.verified').get(id) ?? [];
    await call([
      row(strict, await passport(strict, { attest: 'B' })),
      row(loose, await passport(loose, {}, otherKey)),
      row(plain, await passport(plain, {}, otherKey)),
    ]);
    const w = await waitUntil('relaxed session verified', () => verified(loose.id)[0], 15_000, 20);
    expect(w.body.data.verification).toMatchObject({
      callerTrustPolicy: { failed: 'accept', minAttestation: 'none', requireNetworkAsserted: false },
      callerTrust: { result: 'fail', identity: 'invalid' },
    });
    await waitUntil('strict and plain refused', async () => {
      const [s, p] = await Promise.all([getVerification(daemon.baseUrl, strict.id), getVerification(daemon.baseUrl, plain.id)]);
      return s.lastRejection && p.lastRejection ? [s, p] : undefined;
    }, 15_000);
    expect(await getVerification(daemon.baseUrl, strict.id)).toMatchObject({ status: 'pending', lastRejection: { reason: 'caller_id_attestation_low' } });
    expect(await getVerification(daemon.baseUrl, plain.id)).toMatchObject({ status: 'pending', lastRejection: { reason: 'caller_id_failed' } });
    await call([row(strict, await passport(strict, { attest: 'A' }))]);
    const ws = await waitUntil('strict session verified', () => verified(strict.id)[0], 15_000, 20);
    expect(ws.body.data.verification.callerTrust).toMatchObject({ result: 'pass', attest: 'A', identity: 'valid' });
    expect(verified(plain.id)).toHaveLength(0);
  });
});
