/**
 * A scaled-out ringproof for the distributed-Redis tests: 2 edge processes, 2 worker processes and 1
 * API process (the built CLI) against one Redis URL (Cluster or Sentinel), a real webhook receiver,
 * and the checks those tests share. Everything asserted is observable from outside: the API, SIP
 * answers, signed webhooks, /metrics and `ringproof audit export`; no internal key names.
 */
import { expect } from 'vitest';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';
import {
  SCENARIO_FROM_CLI,
  callDecisions, createMany, expectAllCallsRejected, exportAuditTrail, getVerification, metricSum, newWebhookSecret, placeCalls,
  rowsFor, sleep, startVerifyDaemon, verifiedDeliveries, waitUntil,
  type DaemonRole, type VerificationView, type VerifiedDeliveries, type VerifyDaemon,
} from './verify-e2e.js';

export const SCALE_OUT_DIDS = ['+15550100001', '+15550100002', '+15550100003'];
/** Long enough that no session expires while a failover holds the pipeline up. */
const TTL = 300;

export interface Deployment {
  readonly redisUrl: string;
  readonly secret: string;
  readonly receiver: WebhookReceiver;
  readonly edges: readonly [VerifyDaemon, VerifyDaemon];
  readonly workers: readonly VerifyDaemon[];
  readonly api: VerifyDaemon;
  readonly all: readonly VerifyDaemon[];
  stop(): Promise<void>;
}

/** Starts the five processes (in parallel) against `redisUrl`. */
export async function startDeployment(redisUrl: string): Promise<Deployment> {
  const secret = newWebhookSecret();
  const receiver = await startWebhookReceiver();
  const started: VerifyDaemon[] = [];
  const start = async (name: string, role: DaemonRole): Promise<VerifyDaemon> => {
    const d = await startVerifyDaemon({ name, role, redisUrl, webhookSecret: secret, webhookUrl: receiver.url, dids: SCALE_OUT_DIDS });
    started.push(d);
    return d;
  };
  const stop = async (): Promise<void> => {
    await Promise.allSettled(started.map((d) => d.stop()));
    await receiver.close();
  };
  try {
    const [e1, e2, w1, w2, api] = await Promise.all([
      start('edge-1', 'edge'), start('edge-2', 'edge'), start('worker-1', 'worker'), start('worker-2', 'worker'), start('api', 'api'),
    ]);
    return { redisUrl, secret, receiver, edges: [e1, e2], workers: [w1, w2], api, all: [e1, e2, w1, w2, api], stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Sessions for `phones`, created through the API process. */
export function createSessions(dep: Deployment, phones: readonly string[]): Promise<VerificationView[]> {
  return createMany(dep.api.baseUrl, phones, TTL);
}

export interface BurstOptions {
  /** Calls per second over both edges together (default 100). */
  rate?: number;
  /** Runs `action` this many ms after the burst started (while calls are on the wire). */
  during?: { afterMs: number; action: () => Promise<void> };
}

/**
 * One call per session, half of them to edge-1 over UDP and half to edge-2 over TCP, at once; every
 * call must get the edge's reject whatever Redis does meanwhile. Resolves with the time `during` ran.
 */
export async function burst(dep: Deployment, sessions: readonly VerificationView[], opts: BurstOptions = {}): Promise<{ actionAt: number }> {
  const rate = opts.rate ?? 100;
  const half = Math.ceil(sessions.length / 2);
  const parts = [sessions.slice(0, half), sessions.slice(half)] as const;
  let actionAt = 0;
  let action: Promise<void> = Promise.resolve();
  const timer = opts.during
    ? setTimeout(() => {
      actionAt = Date.now();
      action = (opts.during as { action: () => Promise<void> }).action();
    }, opts.during.afterMs)
    : undefined;
  try {
    const [udp, tcp] = await Promise.all([
      placeCalls({ scenario: SCENARIO_FROM_CLI, daemon: dep.edges[0], rows: rowsFor(parts[0]), rate: rate / 2, transport: 'udp' }),
      placeCalls({ scenario: SCENARIO_FROM_CLI, daemon: dep.edges[1], rows: rowsFor(parts[1]), rate: rate / 2, transport: 'tcp' }),
    ]);
    expectAllCallsRejected(udp, parts[0].length);
    expectAllCallsRejected(tcp, parts[1].length);
  } finally {
    clearTimeout(timer);
  }
  await action;
  if (opts.during) expect(actionAt, 'the mid-burst action ran').toBeGreaterThan(0);
  return { actionAt };
}

export interface OnceReport {
  deliveries: VerifiedDeliveries;
  /** Sessions whose one event was POSTed more than once (same webhook-id and body). */
  redelivered: number;
  /**
   * Redeliveries beyond the failed attempts the workers counted (a POST that timed out or failed is
   * rightly sent again: receivers deduplicate by webhook-id). Anything here is a duplicate no failed
   * attempt explains: state lost or a claim held twice.
   */
  unexplained: number;
  /** The longest gap between two consecutive verified webhooks of these sessions, ms. */
  longestGapMs: number;
}

/**
 * Every session ends verified, with exactly one verified event (one webhook-id, one body); every call
 * of these numbers has exactly one decision in the audit trail, and it verified its session. Waits up
 * to `timeoutMs` for the webhooks. POSTs of one event more than once are counted, not asserted: see
 * OnceReport.unexplained.
 */
export async function expectEachVerifiedOnce(dep: Deployment, sessions: readonly VerificationView[], timeoutMs: number,
  calls = sessions.length): Promise<OnceReport> {
  const ids = new Set(sessions.map((s) => s.id));
  const of = (): VerifiedDeliveries => verifiedDeliveries(dep.secret, dep.receiver.received, ids);
  let seen = 0;
  try {
    await waitUntil('a verified webhook for every session', () => {
      seen = of().ids.size;
      return seen === ids.size ? true : undefined;
    }, timeoutMs, 200);
  } catch (err) {
    throw new Error(`${(err as Error).message} (${seen}/${ids.size} sessions)\n${await diagnose(dep, sessions, of())}`);
  }
  // Room for a wrong second webhook to arrive before counting.
  await sleep(1500);
  const d = of();
  for (const s of sessions) expect(d.ids.get(s.id)?.size, `distinct verified events for ${s.id}`).toBe(1);
  for (const [id, bodies] of d.bodies) expect(bodies.size, `bodies of ${id}`).toBe(1);
  const redelivered = [...d.raw.values()].filter((l) => l.length > 1).length;
  const retried = await metricSum(dep.workers, 'ringproof_webhook_deliveries_total', { type: 'verification.verified', result: 'retry' });

  const states = await Promise.all(sessions.map(async (s) => `${s.id}:${(await getVerification(dep.api.baseUrl, s.id)).status}`));
  expect(states.filter((x) => !x.endsWith(':verified'))).toEqual([]);

  const audit = await exportAuditTrail(dep.redisUrl);
  const decided = callDecisions(audit, new Set(sessions.map((s) => s.phoneNumber)));
  expect(decided.size, 'calls with a decision in the audit trail').toBe(calls);
  const verifiedSessions = new Set<string>();
  for (const [callId, set] of decided) {
    expect([...set], `decisions of ${callId}`).toHaveLength(1);
    const [outcome, sessionId] = ([...set][0] as string).split(' ');
    expect(outcome, callId).toBe('verified');
    verifiedSessions.add(sessionId as string);
  }
  expect(verifiedSessions).toEqual(ids);

  const times = [...d.times].sort((a, b) => a - b);
  let longestGapMs = 0;
  for (let i = 1; i < times.length; i++) longestGapMs = Math.max(longestGapMs, (times[i] as number) - (times[i - 1] as number));
  return { deliveries: d, redelivered, unexplained: Math.max(0, redelivered - retried), longestGapMs };
}

/** Call events both edges have put in their disk spool so far (while Redis did not take them). */
export async function spooledBy(dep: Deployment): Promise<number> {
  const snaps = await Promise.all(dep.edges.map((e) => e.metrics()));
  return snaps.reduce((sum, m) => sum + m.get('ringproof_events_published_total', { result: 'spooled' }), 0);
}

/** What became of sessions without a webhook, from the API and the audit trail, and the daemons' last lines. */
async function diagnose(dep: Deployment, sessions: readonly VerificationView[], d: VerifiedDeliveries): Promise<string> {
  const lines: string[] = [];
  try {
    const missing = sessions.filter((s) => !d.ids.has(s.id)).slice(0, 5);
    const audit = await exportAuditTrail(dep.redisUrl);
    for (const s of missing) {
      const got = await getVerification(dep.api.baseUrl, s.id).catch((e: Error) => e.message);
      lines.push(`session ${s.id} ${s.phoneNumber} → ${s.callTo}: ${JSON.stringify(got)}`);
      for (const r of audit) if (r.data.cli === s.phoneNumber || r.data.id === s.id) lines.push(`  audit ${JSON.stringify(r)}`);
    }
    for (const e of dep.edges) {
      const m = await e.metrics();
      lines.push(`${e.name}: ${m.samples.filter((x) => /^ringproof_(events_published|spool_)/.test(x.name)).map((x) => `${x.name}${JSON.stringify(x.labels)}=${x.value}`).join(' ')}`);
    }
  } catch (err) {
    lines.push(`diagnosis failed: ${String(err)}`);
  }
  lines.push(...dep.all.map((x) => `--- ${x.name} ---\n${x.tail(15)}`));
  return lines.join('\n');
}
