/**
 * Graceful shutdown under load (issue 11), with real processes: an edge daemon (`serve`, role edge)
 * queueing into a real Redis that no worker drains, so every call event it let go of can be counted
 * in Redis afterwards, plus whatever its disk spool holds; SIPp places the calls over UDP and logs
 * every message it sent and received (-trace_shortmsg), so the calls it got an answer for are known
 * by Call-ID. daemon-shutdown.test.ts covers the endings of the embedded redis-server.
 */
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { startDaemonProcess, type DaemonProcess } from '../helpers/daemon-process.js';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';
import { describeSipp, runSipp, type SippResult } from '../helpers/sipp.js';
import { freePort } from '../helpers/free-port.js';
import type { SipTotals } from '../../src/metrics/sip-totals.js';
import { SCENARIO_FROM_CLI, metricSum, tempDir, unsolicitedRows, waitUntil, type CallRow } from '../helpers/verify-e2e.js';
import { batchEvents } from '../../src/queue/call-batch.js';
import { bullmqPrefix } from '../../src/redis/redis-connection.js';
import { DiskSpool } from '../../src/spool/disk-spool.js';
import { CALLS_QUEUE } from '../../src/verify/queue-names.js';
import type { CallEvent } from '../../src/edge/call-event.js';

const DIDS = ['+15550100001', '+15550100002'];
const GRACE_SECONDS = 15;
const KEY_PREFIX = '{ringproof}';

let redis: TestRedis;
let admin: Redis;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  redis = await startTestRedis({ appendonly: false });
  admin = new Redis(redis.url, { maxRetriesPerRequest: null });
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await admin.flushall();
});
afterAll(async () => {
  admin.disconnect();
  await stopAndClean(redis);
});

/** `ringproof serve --role edge` on UDP, queueing into the test Redis, with the given state dir. */
async function startEdge(stateDir: string): Promise<DaemonProcess> {
  const config = tempDir('config');
  cleanups.push(() => config.remove());
  const configFile = join(config.dir, 'ringproof.yaml');
  // No worker drains the queue here: its batches must not count as a backlog to shed. Every call
  // takes the queue path (prefilterWatermarkMs 0: the edge decides none itself), so each one's event
  // can be found in Redis or the spool.
  writeFileSync(configFile, `shutdownGraceSeconds: ${GRACE_SECONDS}\npipeline:\n  shedAfterSeconds: 3600\n  prefilterWatermarkMs: 0\n`);
  const d = await startDaemonProcess({
    configFile,
    transports: ['udp'],
    readyTimeoutMs: 30_000,
    env: {
      REDIS_URL: redis.url,
      RINGPROOF_ROLE: 'edge',
      RINGPROOF_EVENT_SINK: 'queue',
      RINGPROOF_STATE_DIR: stateDir,
      RINGPROOF_DIDS: DIDS.join(','),
    },
  });
  cleanups.push(() => d.stop('SIGKILL').then(() => undefined));
  return d;
}

function stateDir(label: string): string {
  const t = tempDir(label);
  cleanups.push(() => t.remove());
  return t.dir;
}

/** Waits for the daemon's exit without signalling it again. */
function exitOf(d: DaemonProcess, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return waitUntil('the daemon to exit', () => (d.running() ? undefined : { code: d.child.exitCode, signal: d.child.signalCode }), timeoutMs, 20);
}

/** Starts SIPp placing one call per row at `rate`; its working dir is kept for the message log. */
function placeLogged(d: DaemonProcess, rows: readonly CallRow[], rate: number, localPort?: number): Promise<SippResult> {
  const tmp = tempDir('calls');
  cleanups.push(() => tmp.remove());
  const injection = join(tmp.dir, 'calls.csv');
  writeFileSync(injection, ['SEQUENTIAL', ...rows.map((r) => `${r.cli};${r.did}`)].join('\n') + '\n');
  return runSipp({
    scenario: SCENARIO_FROM_CLI, injection, transport: 'udp', target: `127.0.0.1:${d.sipPort}`,
    calls: rows.length, rate, timeoutMs: 60_000, keepDir: true, ...(localPort !== undefined ? { localPort } : {}),
    extraArgs: ['-rp', '1000', '-l', String(rate), '-trace_shortmsg', '-shortmessage_file', 'short.log'],
  }).then((r) => {
    cleanups.push(() => rmSync(r.dir as string, { recursive: true, force: true }));
    return r;
  });
}

/** From SIPp's message log: the Call-IDs it sent an INVITE for, and those that got the final reject. */
function sippCalls(r: SippResult): { sent: Set<string>; answered: Set<string> } {
  const sent = new Set<string>();
  const answered = new Set<string>();
  for (const line of readFileSync(join(r.dir as string, 'short.log'), 'latin1').split('\n')) {
    // date, time, epoch, S|R, Call-ID, CSeq, first line
    const f = line.split('\t');
    if (f.length < 7) continue;
    if (f[3] === 'S' && f[6]!.startsWith('INVITE ')) sent.add(f[4]!);
    if (f[3] === 'R' && /^SIP\/2\.0 (486|603) /.test(f[6]!)) answered.add(f[4]!);
  }
  return { sent, answered };
}

/**
 * Datagrams the kernel dropped at the UDP socket bound to 127.0.0.1:port because its receive buffer
 * was full (/proc/net/udp "drops"); undefined when no such socket is open.
 */
function udpDrops(port: number): number | undefined {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/udp', 'latin1').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[1] === local) return Number(f[f.length - 1]);
  }
  return undefined;
}

/** Every call event in the calls queue (any state), by Call-ID: how often each was queued. */
async function queuedEvents(): Promise<Map<string, number>> {
  const queue = new Queue(CALLS_QUEUE, { connection: admin, prefix: bullmqPrefix(KEY_PREFIX) });
  try {
    const jobs = await queue.getJobs(['wait', 'prioritized', 'delayed', 'active', 'completed', 'failed']);
    const byCallId = new Map<string, number>();
    for (const job of jobs) {
      for (const e of batchEvents(job.data) as CallEvent[]) byCallId.set(e.callId, (byCallId.get(e.callId) ?? 0) + 1);
    }
    return byCallId;
  } finally {
    await queue.close();
  }
}

/** The Call-IDs a (stopped) daemon's spool holds, read from a copy so the spool itself is untouched. */
function spooledEvents(dir: string): string[] {
  const copy = tempDir('spool-copy');
  try {
    cpSync(join(dir, 'spool'), copy.dir, { recursive: true });
    const spool = DiskSpool.open<CallEvent>({ dir: copy.dir, maxEvents: 10_000_000, logger: pino({ level: 'silent' }) });
    const ids: string[] = [];
    for (let b = spool.read(1000); b.records.length > 0; b = spool.read(1000)) {
      ids.push(...b.records.map((e) => e.callId));
      spool.ack(b);
    }
    void spool.close();
    return ids;
  } finally {
    copy.remove();
  }
}

describe('graceful shutdown under load (issue 11)', () => {
  it('SIGTERM during 4,000 calls/s: every INVITE it received is answered and its event queued or spooled; exit within the grace period', async () => {
    const dir = stateDir('term-load');
    const d = await startEdge(dir);
    // 12,000 calls at 4,000/s: about 3 s of traffic; SIGTERM once a few thousand are in.
    const rows = [...unsolicitedRows(61, 6000, DIDS), ...unsolicitedRows(62, 6000, DIDS)];
    const sippPort = await freePort();
    const sipp = placeLogged(d, rows, 4000, sippPort);
    // SIPp's own socket overflows when the machine cannot keep up with it: the kernel counts what
    // it dropped there (responses the daemon did send). Read while SIPp runs, it closes at the end.
    let sippDrops = 0;
    const watch = setInterval(() => { sippDrops = Math.max(sippDrops, udpDrops(sippPort) ?? 0); }, 50);
    cleanups.push(() => clearInterval(watch));
    await waitUntil('calls flowing', async () =>
      ((await metricSum([d], 'ringproof_events_published_total')) >= 2000 ? true : undefined), 30_000, 20);
    const signalledAt = Date.now();
    process.kill(d.pid, 'SIGTERM');
    const exit = await exitOf(d, (GRACE_SECONDS + 10) * 1000);
    const tookMs = Date.now() - signalledAt;
    const r = await sipp;
    clearInterval(watch);
    const why = `${describeSipp(r)}\n${d.logs.stdout.filter((l) => !l.includes('"level":20')).slice(-20).join('\n')}`;
    expect(exit.code, why).toBe(0);
    expect(tookMs, why).toBeLessThan(GRACE_SECONDS * 1000);

    const { sent, answered } = sippCalls(r);
    const queued = await queuedEvents();
    const spooled = spooledEvents(dir);
    const stored = new Set([...queued.keys(), ...spooled]);
    // Every answered call's event was queued or spooled (a batch whose add timed out may be in both).
    expect([...answered].filter((id) => !stored.has(id)), 'answered, but no event').toEqual([]);
    // Every call the daemon took (its event exists) was answered: SIPp saw the reject, or the
    // kernel dropped it (and the answers to SIPp's retransmissions) at SIPp's full socket.
    const unseen = [...stored].filter((id) => !answered.has(id));
    expect(unseen.length, `${unseen.length} calls with an event but no answer seen by SIPp, ${sippDrops} datagrams dropped at SIPp's socket`)
      .toBeLessThanOrEqual(sippDrops);
    // The daemon's own count, logged once its listener closed: a reject sent for every call it took,
    // and nothing dropped unanswered (ack_timeout: an ACK never came; tx_table_full was still answered).
    const totals = d.logs.json().find((rec) => rec.msg === 'SIP engine stopped')?.sip as SipTotals | undefined;
    expect(totals, why).toBeDefined();
    expect(totals!.responses['486'] ?? 0, why).toBeGreaterThanOrEqual(stored.size);
    expect(Object.keys(totals!.drops).filter((k) => k !== 'ack_timeout' && k !== 'tx_table_full'), JSON.stringify(totals)).toEqual([]);
    console.info(`SIGTERM under load: SIPp sent ${sent.size} INVITEs at 4000/s (${r.stats.created} calls created), ${answered.size} answered as SIPp saw it, ` +
      `${sent.size - answered.size} not (${unseen.length} of them taken by the daemon, ${sippDrops} datagrams dropped at SIPp's socket); ` +
      `daemon: ${JSON.stringify(totals)}; events queued ${queued.size}, spooled ${spooled.length}; exit ${exit.code} ${tookMs} ms after SIGTERM (grace ${GRACE_SECONDS} s)`);
  }, 120_000);

  it('SIGKILL with call events spooled (Redis frozen): the next start replays the spool: every answered call queued', async () => {
    const dir = stateDir('kill-spool');
    let d = await startEdge(dir);
    const pid = redis.process.pid as number;
    // Redis stops answering (its socket stays open): the edge's adds time out and go to the spool.
    process.kill(pid, 'SIGSTOP');
    cleanups.push(() => { try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ } });
    const rows = unsolicitedRows(63, 400, DIDS);
    const r = await placeLogged(d, rows, 400);
    expect(r.stats.successful, describeSipp(r)).toBe(rows.length);
    await waitUntil('every event spooled', async () =>
      ((await metricSum([d], 'ringproof_spool_events')) >= rows.length ? true : undefined), 30_000, 50);
    process.kill(d.pid, 'SIGKILL');
    await exitOf(d, 10_000);
    expect(new Set(spooledEvents(dir)).size).toBe(rows.length);
    process.kill(pid, 'SIGCONT');

    d = await startEdge(dir);
    await d.logs.waitFor((rec) => String(rec.msg).startsWith('calls sink: spool drained to Redis'), 30_000);
    const queued = await queuedEvents();
    const { answered } = sippCalls(r);
    expect([...answered].filter((id) => !queued.has(id)), 'answered, not queued after the replay').toEqual([]);
    // Each at least once: a batch add that timed out against the frozen Redis may have been applied
    // when it woke, and the replay re-sends it (the workers decide a Call-ID once).
    expect(queued.size).toBe(rows.length);
    expect(await metricSum([d], 'ringproof_spool_drained_total')).toBeGreaterThanOrEqual(rows.length);
    expect(await d.stop('SIGTERM')).toBe(0);
  }, 120_000);
});
