import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSessions, sessionStatuses } from './api-client.mjs';
import { freePort } from './free-port.mjs';
import { percentileSorted } from './percentile.mjs';
import { cpuTicks, machineTicks, memoryKb, otherLoadCores, udpRcvbufErrors } from './proc-stats.mjs';
import { countsDelta, histogramDelta, scrape, sum } from './prom-scrape.mjs';
import { runSipp } from './sipp-run.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Sessions live long enough for the create phase, the calls and the wait of even the biggest rung. */
const TTL_SECONDS = 300;
/** Give up waiting once no new verified webhook has arrived for this long after the calls ended. */
const STALL_MS = 15_000;

/**
 * The i-th bench caller: +44 7400 000000 and up (an allocated UK mobile range, so the default number
 * policy accepts it; Ofcom's fictional 07700 900xxx is not a valid number), distinct across the whole
 * ladder so no session supersedes another.
 */
export function benchCli(i) {
  return `+44${7400000000 + i}`;
}

function randomSample(items, n) {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, n);
}

/**
 * One rung of the e2e ladder: create one session per caller through the API, write the injection
 * file (CLI; the callTo each session was given), run SIPp at `rate`, wait for every verified webhook
 * (or the wait limit), then read the numbers.
 */
export async function runE2eStep({ daemon, receiver, rate, opts, firstCli, scenarioXml, workRoot, ticksPerS, log }) {
  const workDir = join(workRoot, `e2e-${rate}`);
  mkdirSync(workDir, { recursive: true });
  const n = Math.max(1, Math.round(rate * opts.duration));
  const clis = Array.from({ length: n }, (_, i) => benchCli(firstCli + i));
  const pids = () => ({ daemon: cpuTicks(daemon.pid), redis: daemon.redisPid ? cpuTicks(daemon.redisPid) : NaN });

  // 1. Sessions, as the app would create them before showing the user the number to call.
  const c0 = pids();
  const createT0 = performance.now();
  const { sessions, errors: createErrors } = await createSessions(daemon.httpPort, clis, { concurrency: opts.concurrency, ttlSeconds: TTL_SECONDS });
  const createS = (performance.now() - createT0) / 1000;
  const c1 = pids();
  log(`  e2e ${rate}/s: ${sessions.length}/${n} sessions created in ${createS.toFixed(1)} s (${(sessions.length / createS).toFixed(0)}/s)${createErrors.length ? `, ${createErrors.length} errors` : ''}`);
  if (sessions.length === 0) throw new Error(`no session could be created: ${createErrors.slice(0, 3).join(' / ')}`);

  // 2. The injection file: row i is call i (SEQUENTIAL), CLI = field0, DID = field1 (the session's callTo).
  const csv = join(workDir, 'callers.csv');
  writeFileSync(csv, `SEQUENTIAL\n${sessions.map((s) => `${s.phoneNumber};${s.callTo}`).join('\n')}\n`);
  // Let the create burst's webhooks/queues quiet down so the window below holds only the calls.
  await sleep(1000);

  // 3. The calls.
  const before = await scrape(daemon.httpPort);
  const t0 = performance.now();
  const cpu0 = pids();
  const box0 = machineTicks();
  const drops0 = udpRcvbufErrors();
  const bench0 = process.cpuUsage();
  const sipp = await runSipp({
    scenario: scenarioXml,
    extraArgs: ['-inf', csv],
    rate,
    duration: sessions.length / rate,
    transport: opts.transport,
    localPort: await freePort(),
    targetPort: daemon.sipPort,
    workDir,
  });
  const cpuLoad = pids();
  const box1 = machineTicks();

  // 4. Every verified webhook, or until the wait limit / a stall.
  const ids = sessions.map((s) => s.id);
  const waitT0 = Date.now();
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const got = receiver.countVerified(ids);
    if (got !== last) {
      last = got;
      lastChange = Date.now();
    }
    if (got >= ids.length || Date.now() - waitT0 >= opts.wait * 1000 || Date.now() - lastChange >= STALL_MS) break;
    await sleep(100);
  }
  const waitS = (Date.now() - waitT0) / 1000;
  const cpu1 = pids();
  const bench1 = process.cpuUsage(bench0);
  const windowS = (performance.now() - t0) / 1000;
  const drops1 = udpRcvbufErrors();
  const after = await scrape(daemon.httpPort);
  const mem = memoryKb(daemon.pid);
  const redisMem = daemon.redisPid ? memoryKb(daemon.redisPid) : undefined;

  // 5. What the app would see: the sessions' state (a sample) and the webhook latencies.
  const statuses = await sessionStatuses(daemon.httpPort, randomSample(ids, opts.sample));
  const lat = [];
  let noCallTime = 0;
  for (const id of ids) {
    const w = receiver.verified.get(id);
    if (!w) continue;
    if (w.callReceivedAt === undefined) noCallTime++;
    else lat.push(w.at - w.callReceivedAt);
  }
  lat.sort((a, b) => a - b);
  const verified = receiver.countVerified(ids);
  const cpuS = (k, a, b) => (b[k] - a[k]) / ticksPerS;
  const calls = sipp.successful;
  const loadDaemonS = cpuS('daemon', cpu0, cpuLoad);
  const loadRedisS = cpuS('redis', cpu0, cpuLoad);
  return {
    rate,
    ids,
    sessions: sessions.length,
    planned: n,
    createErrors,
    createS,
    createPerS: sessions.length / createS,
    createDaemonUs: (cpuS('daemon', c0, c1) * 1e6) / Math.max(1, sessions.length),
    createRedisUs: (cpuS('redis', c0, c1) * 1e6) / Math.max(1, sessions.length),
    sipp,
    alive: daemon.alive(),
    verified,
    lost: sessions.length - verified,
    waitS,
    windowS,
    statuses,
    latency: {
      n: lat.length,
      noCallTime,
      p50: percentileSorted(lat, 0.5),
      p90: percentileSorted(lat, 0.9),
      p99: percentileSorted(lat, 0.99),
      max: lat.length ? lat[lat.length - 1] : NaN,
    },
    daemonInviteToWebhook: histogramDelta(before, after, 'ringproof_invite_to_webhook_seconds'),
    daemonInviteToVerified: histogramDelta(before, after, 'ringproof_invite_to_verified_seconds'),
    daemonInviteToFinal: histogramDelta(before, after, 'ringproof_sip_invite_to_final_seconds'),
    outcomes: countsDelta(before, after, 'ringproof_call_outcomes_total', 'outcome'),
    deliveries: countsDelta(before, after, 'ringproof_webhook_deliveries_total', 'result'),
    spooled: sum(after, 'ringproof_spool_events'),
    daemonCpuUsPerCall: calls > 0 ? (cpuS('daemon', cpu0, cpu1) * 1e6) / calls : NaN,
    redisCpuUsPerCall: calls > 0 ? (cpuS('redis', cpu0, cpu1) * 1e6) / calls : NaN,
    daemonPctLoad: (loadDaemonS / sipp.wallS) * 100,
    redisPctLoad: (loadRedisS / sipp.wallS) * 100,
    daemonPctWindow: (cpuS('daemon', cpu0, cpu1) / windowS) * 100,
    redisPctWindow: (cpuS('redis', cpu0, cpu1) / windowS) * 100,
    benchPctWindow: ((bench1.user + bench1.system) / 1e6 / windowS) * 100,
    sippCpuPct: (sipp.sippCpuS / sipp.wallS) * 100,
    otherCores: otherLoadCores(box0, box1, [loadDaemonS, loadRedisS, sipp.sippCpuS], sipp.wallS),
    udpRcvbufDrops: drops1 - drops0,
    rssMb: mem ? mem.rssKb / 1024 : NaN,
    hwmMb: mem ? mem.hwmKb / 1024 : NaN,
    redisRssMb: redisMem ? redisMem.rssKb / 1024 : NaN,
  };
}
