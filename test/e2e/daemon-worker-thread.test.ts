/**
 * Role all with pipeline.workerThread (issue #8): the built daemon on its embedded redis-server runs
 * its workers in a worker thread, the SIP edge and the API in the main thread. Real SIPp calls, a real
 * webhook receiver: every session verifies once with one webhook, the thread's counters reach
 * /metrics, SIGHUP reaches the thread, and SIGTERM stops the thread, the daemon and its redis-server cleanly.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startDaemonProcess } from '../helpers/daemon-process.js';
import { startWebhookReceiver } from '../helpers/webhook-receiver.js';
import {
  SCENARIO_FROM_CLI, createMany, expectAllCallsRejected, getVerification, metricSum, newWebhookSecret, placeCalls, tempDir,
  waitUntil, webhooksBySession,
} from '../helpers/verify-e2e.js';

const DIDS = ['+15550100001', '+15550100002'];
const secret = newWebhookSecret();
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('role all with the workers in a worker thread (pipeline.workerThread)', () => {
  it('verifies every session once with one webhook, merges the thread\'s metrics into /metrics, reloads, and stops cleanly', async () => {
    const receiver = await startWebhookReceiver();
    cleanups.push(() => receiver.close());
    const state = tempDir('worker-thread');
    cleanups.push(() => state.remove());
    const d = await startDaemonProcess({
      readyTimeoutMs: 30_000,
      env: {
        RINGPROOF_EVENT_SINK: 'queue',
        RINGPROOF_STATE_DIR: state.dir,
        RINGPROOF_PIPELINE_WORKER_THREAD: 'true',
        RINGPROOF_WEBHOOK_SECRETS: secret,
        RINGPROOF_WEBHOOK_URL: receiver.url,
        RINGPROOF_WEBHOOK_ALLOW_PRIVATE_TARGETS: '127.0.0.0/8',
        RINGPROOF_DIDS: DIDS.join(','),
      },
    });
    cleanups.push(() => d.stop('SIGKILL').then(() => undefined));
    expect(d.logs.json().some((r) => r.msg === 'workers running: calls, expiry, webhooks' && r.thread === 'workers')).toBe(true);

    const sessions = await createMany(d.baseUrl, Array.from({ length: 6 }, (_, i) => `+120255501${60 + i}`), 300);
    expectAllCallsRejected(await placeCalls({
      scenario: SCENARIO_FROM_CLI, daemon: d, rows: sessions.map((s) => ({ cli: s.phoneNumber, did: s.callTo })),
    }), sessions.length);
    await waitUntil('every session verified', async () => {
      const views = await Promise.all(sessions.map((s) => getVerification(d.baseUrl, s.id)));
      return views.every((v) => v.status === 'verified') ? true : undefined;
    }, 30_000);
    await waitUntil('a verified webhook for every session', () => {
      const bySession = webhooksBySession(secret, receiver.received, 'verification.verified');
      return sessions.every((s) => bySession.has(s.id)) ? true : undefined;
    }, 30_000);

    // Counted in the thread (the call worker's outcomes, its direct webhook POSTs) and in the main
    // thread (SIP requests, sessions created by the API), all on the main thread's /metrics.
    expect(await metricSum([d], 'ringproof_call_outcomes_total', { outcome: 'verified' })).toBe(sessions.length);
    expect(await metricSum([d], 'ringproof_webhook_deliveries_total')).toBeGreaterThanOrEqual(sessions.length);
    expect(await metricSum([d], 'ringproof_verifications_created_total')).toBe(sessions.length);
    expect(await metricSum([d], 'ringproof_sip_requests_total', { method: 'INVITE' })).toBe(sessions.length);

    // SIGHUP reaches the thread too (its call limits), and the thread lives on.
    d.child.kill('SIGHUP');
    await d.logs.waitFor((r) => r.msg === 'SIGHUP: configuration reloaded', 10_000);
    expect(await metricSum([d], 'ringproof_call_outcomes_total', { outcome: 'verified' })).toBe(sessions.length);

    expect(await d.stop('SIGTERM')).toBe(0);
    const bySession = webhooksBySession(secret, receiver.received, 'verification.verified');
    for (const s of sessions) expect(bySession.get(s.id)?.length, s.id).toBe(1);
    expect(d.logs.json().some((r) => r.code === 'RP_WORKER_THREAD_FAILED')).toBe(false);
  }, 90_000);
});
