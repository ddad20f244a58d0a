/**
 * How the daemon and its embedded redis-server end (issue 19), with real processes: the built daemon
 * with no REDIS_URL (so it runs its own redis-server in the state directory), real SIPp calls, and a
 * slow real webhook receiver that holds the drain open. After every ending no process of the daemon's
 * survives, and the next `serve` on the same state directory starts cleanly and has lost nothing.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startDaemonProcess, type DaemonProcess } from '../helpers/daemon-process.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import {
  SCENARIO_FROM_CLI, createMany, expectAllCallsRejected, getVerification, metricSum, newWebhookSecret, phoneNumbers, placeCalls,
  tempDir, waitUntil, webhooksBySession,
} from '../helpers/verify-e2e.js';

const DIDS = ['+15550100001', '+15550100002'];
const GRACE_SECONDS = 10;
const secret = newWebhookSecret();

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** `ringproof serve` (role all, calls queue) with its embedded redis-server in `stateDir`. */
async function startEmbedded(stateDir: string, webhookUrl: string, graceSeconds = GRACE_SECONDS, env: Record<string, string> = {}): Promise<DaemonProcess> {
  const config = tempDir('config');
  cleanups.push(() => config.remove());
  const configFile = join(config.dir, 'ringproof.yaml');
  writeFileSync(configFile, `shutdownGraceSeconds: ${graceSeconds}\n`);
  const d = await startDaemonProcess({
    configFile,
    readyTimeoutMs: 30_000,
    env: {
      RINGPROOF_EVENT_SINK: 'queue',
      RINGPROOF_STATE_DIR: stateDir,
      RINGPROOF_WEBHOOK_SECRETS: secret,
      RINGPROOF_WEBHOOK_URL: webhookUrl,
      // The receivers run on loopback, which the webhook egress guard refuses unless allowed.
      RINGPROOF_WEBHOOK_ALLOW_PRIVATE_TARGETS: '127.0.0.0/8',
      RINGPROOF_DIDS: DIDS.join(','),
      RINGPROOF_LOG_LEVEL: 'debug',
      ...env,
    },
  });
  cleanups.push(() => d.stop('SIGKILL').then(() => undefined));
  return d;
}

function redisPid(stateDir: string): number {
  return Number(readFileSync(join(stateDir, 'redis', 'redis.pid'), 'utf8').trim());
}

/** Live processes whose command line names the state directory (the embedded redis-server does). */
function processesUsing(stateDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(stateDir)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits for the daemon's exit without signalling it (DaemonProcess.stop would send a second signal). */
function exitOf(d: DaemonProcess, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return waitUntil('the daemon to exit', () => (d.running() ? undefined : { code: d.child.exitCode, signal: d.child.signalCode }), timeoutMs, 20);
}

function logMessages(d: DaemonProcess): string[] {
  return d.logs.json().map((r) => String(r.msg));
}

async function expectNothingLeft(stateDir: string): Promise<void> {
  // Redis is signalled by the kernel or by the daemon, and saves before it exits: wait for that.
  await waitUntil('no process of the daemon left', () => (processesUsing(stateDir).length === 0 ? true : undefined), 10_000, 50);
  expect(existsSync(join(stateDir, 'redis', 'redis.sock'))).toBe(false);
}

async function receiver(delayMs = 0): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver({ delayMs });
  cleanups.push(() => r.close());
  return r;
}

function stateDir(label: string): string {
  const t = tempDir(label);
  cleanups.push(() => t.remove());
  return t.dir;
}

describe('daemon shutdown with its embedded redis-server (issue 19)', () => {
  it('SIGTERM to the whole group while webhooks are in flight: redis is not restarted, the daemon exits at once, nothing verified is lost', async () => {
    const dir = stateDir('group');
    const slow = await receiver(4000);
    let d = await startEmbedded(dir, slow.url);
    const sessions = await createMany(d.baseUrl, phoneNumbers(41, 20), 300);
    expectAllCallsRejected(await placeCalls({
      scenario: SCENARIO_FROM_CLI, daemon: d, rows: sessions.map((s) => ({ cli: s.phoneNumber, did: s.callTo })),
    }), sessions.length);
    await waitUntil('20 sessions verified', async () => {
      const views = await Promise.all(sessions.map((s) => getVerification(d.baseUrl, s.id)));
      return views.every((v) => v.status === 'verified') ? true : undefined;
    }, 20_000);
    // The drain is held open: the receiver has webhooks it answers only 4 s later.
    await waitUntil('a webhook in flight', () => (slow.received.length > 0 ? true : undefined), 10_000, 20);

    const rp = redisPid(dir);
    const signalledAt = Date.now();
    // What systemd's KillMode=control-group and `kill -TERM -- -PGID` do: every process gets it.
    process.kill(d.pid, 'SIGTERM');
    process.kill(rp, 'SIGTERM');
    const exit = await exitOf(d, (GRACE_SECONDS + 10) * 1000);
    const tookMs = Date.now() - signalledAt;

    const why = d.logs.stdout.slice(-30).join('\n');
    expect(exit.code, why).toBe(75);
    expect(tookMs, why).toBeLessThan(GRACE_SECONDS * 1000);
    const msgs = logMessages(d);
    expect(msgs.filter((m) => m === 'embedded redis started'), why).toHaveLength(1);
    expect(msgs.some((m) => m.startsWith('embedded redis exited unexpectedly')), why).toBe(false);
    expect(msgs.some((m) => m.startsWith('stopped without the embedded redis-server')), why).toBe(true);
    expect(alive(rp)).toBe(false);
    await expectNothingLeft(dir);

    // The next start: every session still verified, and each verified webhook delivered (again, if
    // its delivery was cut off: receivers deduplicate by webhook-id).
    d = await startEmbedded(dir, slow.url);
    const after = await Promise.all(sessions.map((s) => getVerification(d.baseUrl, s.id)));
    expect(after.map((v) => v.status)).toEqual(sessions.map(() => 'verified'));
    await waitUntil('a verified webhook for every session', () => {
      const bySession = webhooksBySession(secret, slow.received, 'verification.verified');
      return sessions.every((s) => (bySession.get(s.id)?.length ?? 0) > 0) ? true : undefined;
    }, 60_000);
    expect(await d.stop('SIGTERM')).toBe(0);
    await expectNothingLeft(dir);
  }, 150_000);

  it('SIGTERM to the whole group while call events wait in the edge for a frozen Redis: they are spooled, replayed at the next start, one webhook each', async () => {
    const dir = stateDir('group-spool');
    const r = await receiver();
    let d = await startEmbedded(dir, r.url);
    // Valid numbers (the number policy refuses +1555…): 202-555-0150…0154.
    const sessions = await createMany(d.baseUrl, Array.from({ length: 5 }, (_, i) => `+120255501${50 + i}`), 300);
    const rp = redisPid(dir);
    // Redis stops answering first (frozen: its socket stays open, so the edge's adds time out and the
    // sink spools); the calls come in meanwhile, pending sessions' candidates.
    process.kill(rp, 'SIGSTOP');
    cleanups.push(() => { try { process.kill(rp, 'SIGCONT'); } catch { /* gone */ } });
    expectAllCallsRejected(await placeCalls({
      scenario: SCENARIO_FROM_CLI, daemon: d, rows: sessions.map((s) => ({ cli: s.phoneNumber, did: s.callTo })),
    }), sessions.length);
    await waitUntil('call events spooled', () =>
      (logMessages(d).some((m) => m.startsWith('calls sink: Redis did not take a batch')) ? true : undefined), 30_000, 50);

    // The whole group gets SIGTERM; Redis (woken to take it) saves and exits during the shutdown.
    const signalledAt = Date.now();
    process.kill(d.pid, 'SIGTERM');
    process.kill(rp, 'SIGTERM');
    process.kill(rp, 'SIGCONT');
    const exit = await exitOf(d, (GRACE_SECONDS + 10) * 1000);
    const why = d.logs.stdout.slice(-30).join('\n');
    // Which goes first is a race both ways of which are correct: Redis exits before the sink's last
    // flush (the events stay spooled, exit 75), or the woken Redis takes them first (a clean stop, 0).
    expect([0, 75], why).toContain(exit.code);
    const spooled = exit.code === 75;
    expect(Date.now() - signalledAt, why).toBeLessThan(GRACE_SECONDS * 1000);
    const msgs = logMessages(d);
    expect(msgs.filter((m) => m === 'embedded redis started'), why).toHaveLength(1);
    expect(msgs.some((m) => m.startsWith('stopped without the embedded redis-server')), why).toBe(spooled);
    await expectNothingLeft(dir);
    // Exit 75 says Redis went before the stop ended, not that nothing reached it: the woken Redis may
    // take the sink's re-sent events (and a worker verify them) just before it exits. Either way no
    // session has more than one verified webhook, and a clean stop leaves nothing spooled.
    const verifiedBefore = webhooksBySession(secret, r.received, 'verification.verified');
    for (const list of verifiedBefore.values()) expect(list.length, why).toBe(1);

    // The next start replays what is spooled: every session verified, by exactly one webhook.
    d = await startEmbedded(dir, r.url);
    const replayed = logMessages(d).some((m) => m.startsWith('calls sink: spooled events from a previous run'));
    if (!spooled) expect(replayed).toBe(false);
    await waitUntil('every session verified', async () => {
      const views = await Promise.all(sessions.map((s) => getVerification(d.baseUrl, s.id)));
      return views.every((v) => v.status === 'verified') ? true : undefined;
    }, 30_000);
    await waitUntil('a verified webhook for every session', () => {
      const bySession = webhooksBySession(secret, r.received, 'verification.verified');
      return sessions.every((s) => (bySession.get(s.id)?.length ?? 0) > 0) ? true : undefined;
    }, 30_000);
    // Nothing verified before the restart: all of them came back from the spool.
    if (replayed) expect(await metricSum([d], 'ringproof_spool_drained_total')).toBeGreaterThanOrEqual(verifiedBefore.size === 0 ? sessions.length : 1);
    expect(await d.stop('SIGTERM')).toBe(0);
    const bySession = webhooksBySession(secret, r.received, 'verification.verified');
    for (const s of sessions) expect(bySession.get(s.id)?.length, s.id).toBe(1);
    await expectNothingLeft(dir);
  }, 150_000);

  it('SIGTERM while a webhook takes longer than the grace period: the workers are left behind, exit 0 within the grace period, delivered after the restart', async () => {
    const dir = stateDir('abandon');
    // Each POST is answered after 2.5 s (within the 5 s webhook timeout), longer than the workers'
    // share of a 2 s grace period. The webhooks queue's worker makes it (no direct first attempt,
    // which hands a slow POST to the queue after 1 s), so a job is in flight when SIGTERM comes.
    const slow = await receiver(2500);
    const grace = 2;
    const queuedOnly = { RINGPROOF_WEBHOOK_DIRECT_FIRST_ATTEMPT: 'false' };
    let d = await startEmbedded(dir, slow.url, grace, queuedOnly);
    const [session] = await createMany(d.baseUrl, ['+12025550160'], 300);
    expectAllCallsRejected(await placeCalls({
      scenario: SCENARIO_FROM_CLI, daemon: d, rows: [{ cli: session!.phoneNumber, did: session!.callTo }],
    }), 1);
    await waitUntil('the verified webhook in flight', () =>
      (webhooksBySession(secret, slow.received, 'verification.verified').has(session!.id) ? true : undefined), 20_000, 20);
    const signalledAt = Date.now();
    const code = await d.stop('SIGTERM');
    const tookMs = Date.now() - signalledAt;
    const why = d.logs.stdout.slice(-30).join('\n');
    expect(code, why).toBe(0);
    expect(tookMs, why).toBeLessThan(grace * 1000);
    expect(d.logs.json().some((r) => r.code === 'RP_SHUTDOWN_PART_ABANDONED' && r.part === 'workers'), why).toBe(true);
    await expectNothingLeft(dir);

    // The POST cut off by the exit was never acknowledged: the next start delivers it again.
    const before = slow.received.length;
    d = await startEmbedded(dir, slow.url, grace, queuedOnly);
    await waitUntil('the verified webhook delivered again after the restart', () =>
      (webhooksBySession(secret, slow.received.slice(before), 'verification.verified').has(session!.id) ? true : undefined), 60_000);
    expect((await getVerification(d.baseUrl, session!.id)).status).toBe('verified');
    await d.stop('SIGKILL');
    await expectNothingLeft(dir);
  }, 150_000);

  it('SIGKILL of the daemon: its redis-server exits by itself, and the next start is clean', async () => {
    const dir = stateDir('kill');
    const r = await receiver();
    const d = await startEmbedded(dir, r.url);
    const rp = redisPid(dir);
    expect(alive(rp)).toBe(true);
    process.kill(d.pid, 'SIGKILL');
    await exitOf(d, 10_000);
    await expectNothingLeft(dir);
    // The lock still names the dead daemon: the next start takes it over.
    expect(readFileSync(join(dir, 'ringproof.pid'), 'utf8').trim()).toBe(String(d.pid));
    const next = await startEmbedded(dir, r.url);
    expect(redisPid(dir)).not.toBe(rp);
    expect(await next.stop('SIGTERM')).toBe(0);
    await expectNothingLeft(dir);
    expect(existsSync(join(dir, 'ringproof.pid'))).toBe(false);
  }, 90_000);

  it('SIGTERM and SIGINT: exit 0, no process left, lock and socket removed', async () => {
    const dir = stateDir('signals');
    const r = await receiver();
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const d = await startEmbedded(dir, r.url);
      expect(await d.stop(signal), signal).toBe(0);
      await expectNothingLeft(dir);
      expect(existsSync(join(dir, 'ringproof.pid')), signal).toBe(false);
    }
  }, 120_000);

  it('the redis child dying first: restarted while the daemon runs; a later SIGTERM leaves nothing behind', async () => {
    const dir = stateDir('redis-first');
    const r = await receiver();
    const grace = 3;
    const d = await startEmbedded(dir, r.url, grace);
    const first = redisPid(dir);
    process.kill(first, 'SIGKILL');
    await waitUntil('redis restarted', () => (logMessages(d).filter((m) => m === 'embedded redis started').length === 2 ? true : undefined), 20_000);
    expect(redisPid(dir)).not.toBe(first);
    await waitUntil('ready again', async () => ((await fetch(`${d.baseUrl}/readyz`)).status === 200 ? true : undefined), 20_000);
    // The workers' close must not wait on the connections that lived through the restart.
    const signalledAt = Date.now();
    const code = await d.stop('SIGTERM');
    const why = d.logs.stdout.slice(-40).join('\n');
    expect(code, why).toBe(0);
    expect(Date.now() - signalledAt, why).toBeLessThan(grace * 1000);
    await expectNothingLeft(dir);
    // A lock left by the forced exit names a dead pid: the next start takes it over.
    const next = await startEmbedded(dir, r.url, grace);
    expect(await next.stop('SIGTERM')).toBe(0);
    await expectNothingLeft(dir);
    expect(existsSync(join(dir, 'ringproof.pid'))).toBe(false);
  }, 120_000);
});
