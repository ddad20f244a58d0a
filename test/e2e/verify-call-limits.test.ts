/**
 * Call limits end to end: the built daemon (role all) with small call limits, real redis-server and
 * SIPp placing the calls (uac-reject.xml, CLI and DID from the injection file). A spoofer sweeping
 * the DID pool with the victim's number, and a CLI that keeps calling, are refused by the limit
 * they are over: the call to the right DID then verifies nothing and its outcome names the limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';
import {
  SCENARIO_FROM_CLI, createVerification, expectAllCallsRejected, getVerification, newWebhookSecret, phoneNumbers, placeCalls,
  startVerifyDaemon, waitUntil, type CallRow, type VerifyDaemon,
} from '../helpers/verify-e2e.js';

const DIDS = ['+15550100001', '+15550100002', '+15550100003', '+15550100004'];

let redis: TestRedis;
let daemon: VerifyDaemon;
const numbers = phoneNumbers(31, 4);

/** Places the calls and waits until the worker decided each of them (one outcome counted per call). */
async function call(rows: CallRow[]): Promise<void> {
  const decided = async (): Promise<number> => {
    const m = await daemon.metrics();
    return ['verified', 'unsolicited', 'rejected', 'duplicate', 'late', 'invalid', 'withheld']
      .reduce((sum, outcome) => sum + m.get('ringproof_call_outcomes_total', { outcome }), 0);
  };
  const before = await decided();
  expectAllCallsRejected(await placeCalls({ scenario: SCENARIO_FROM_CLI, daemon, rows }), rows.length);
  await waitUntil('every call decided', async () => ((await decided()) >= before + rows.length ? true : undefined), 20_000);
}

beforeAll(async () => {
  redis = await startTestRedis();
  daemon = await startVerifyDaemon({
    name: 'call-limits', role: 'all', redisUrl: redis.url, webhookSecret: newWebhookSecret(), dids: DIDS,
    configYaml: 'limits:\n  calls:\n    perCliDids: { count: 2, windowSeconds: 600 }\n    perCli: { count: 3, windowSeconds: 600 }\n',
    // The test helper turns call limits off by default; here the file decides.
    env: { RINGPROOF_CALL_LIMITS_ENABLED: undefined },
  });
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  if (redis) await stopAndClean(redis);
});

describe('call limits (limits.calls)', () => {
  it('a DID sweep and a hammering CLI never verify, and the outcome names the limit', async () => {
    const [victim, hammer, genuine] = await Promise.all(numbers.slice(0, 3).map((phoneNumber) => createVerification(daemon.baseUrl, { phoneNumber, ttlSeconds: 120 })));
    const others = (did: string): string[] => DIDS.filter((d) => d !== did);
    // The sweep: the victim's number calls two DIDs it was not given, then the right one (3rd distinct DID).
    // The hammer: three calls to one wrong DID (one distinct DID), then the right one (4th call).
    await call([
      ...others(victim!.callTo).slice(0, 2).map((did) => ({ cli: victim!.phoneNumber, did })),
      ...Array.from({ length: 3 }, () => ({ cli: hammer!.phoneNumber, did: others(hammer!.callTo)[0] as string })),
    ]);
    await call([{ cli: victim!.phoneNumber, did: victim!.callTo }, { cli: hammer!.phoneNumber, did: hammer!.callTo }, { cli: genuine!.phoneNumber, did: genuine!.callTo }]);

    const [v, h, g] = await Promise.all([victim, hammer, genuine].map((s) => getVerification(daemon.baseUrl, s!.id)));
    expect(v).toMatchObject({ status: 'pending', lastRejection: { reason: 'limit_cli_dids' } });
    expect(h).toMatchObject({ status: 'pending', lastRejection: { reason: 'limit_cli' } });
    // A caller within every limit verifies as usual.
    expect(g?.status).toBe('verified');
    const m = await daemon.metrics();
    expect(m.get('ringproof_call_limited_total', { limit: 'perCliDids' })).toBe(1);
    expect(m.get('ringproof_call_limited_total', { limit: 'perCli' })).toBe(1);
    expect(m.get('ringproof_call_outcomes_total', { outcome: 'rejected' })).toBe(2);
  });
});
