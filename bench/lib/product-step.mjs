// One step of the product mode against a product target: an unsolicited flood at `rate` from SIPp, a
// paced stream of legitimate verifications through it, the backlog sampled every second, then the
// drain: the CPU window runs until the pipeline has caught up (backlog 0, SIP transactions expired,
// every legitimate call's webhook in) or the drain limit, so deferred work is charged to the calls.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './free-port.mjs';
import { legitSummary, startLegitStream } from './legit-stream.mjs';
import { backlogOf, merged, scrapeTarget, slope } from './product-metrics.mjs';
import { cpuByName, cpuSnapshot, memoryByName, totalCpuS } from './process-cpu.mjs';
import { machineTicks, otherLoadCores, udpRcvbufErrors } from './proc-stats.mjs';
import { countsDelta, histogramDelta } from './prom-scrape.mjs';
import { redisMemory } from './redis-info.mjs';
import { startSampler } from './sampler.mjs';
import { runSipp } from './sipp-run.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** "Sustained": the backlog at the end of the load is at most this many seconds of calls... */
export const SUSTAINED_END_BACKLOG_S = 1;
/** ...it was not growing over the load's second half by more than this share of the rate per second... */
export const SUSTAINED_MAX_GROWTH = 0.01;
/** ...and it was back to zero this soon after the load. */
export const SUSTAINED_DRAIN_S = 10;
export const MIN_ACHIEVED_SHARE = 0.95;

/** Whether a step kept up, and in words what happened (the "what happened in all" column). */
export function judgeSustained(s) {
  const why = [];
  if (!s.alive) why.push('a daemon process died');
  if (s.sipp.failed > 0) why.push(`${s.sipp.failed} SIP calls failed`);
  if (s.sipp.achievedCps < s.rate * MIN_ACHIEVED_SHARE) why.push(`achieved ${s.sipp.achievedCps.toFixed(0)} calls/s`);
  if (!(s.backlogEnd.total <= s.rate * SUSTAINED_END_BACKLOG_S)) why.push(`backlog ${fmtN(s.backlogEnd.total)} at the end of the load`);
  // NaN growth: a step too short for a slope; the end-of-load backlog and the drain still judge it.
  if (s.growthPerS > s.rate * SUSTAINED_MAX_GROWTH) why.push(`growing ${fmtN(s.growthPerS)}/s`);
  if (!(s.drainedAfterS <= SUSTAINED_DRAIN_S)) why.push(Number.isFinite(s.drainedAfterS) ? `drained ${s.drainedAfterS.toFixed(0)} s after the load` : `not drained ${s.drainLimitS} s after the load: ${leftText(s.drainLeft)}`);
  return { sustained: why.length === 0, what: why.length === 0 ? 'kept up' : why.join(', ') };
}

/** What the drain was still waiting for when it gave up. */
export function leftText(left) {
  const parts = [];
  if (!(left.backlog === 0)) parts.push(`backlog ${fmtN(left.backlog)}`);
  if (left.transactions > 0) parts.push(`${fmtN(left.transactions)} SIP transactions`);
  if (left.legit > 0) parts.push(`${fmtN(left.legit)} legitimate verifications without webhook`);
  return parts.join(', ') || 'nothing';
}

function fmtN(v) {
  return Number.isFinite(v) ? Math.round(v).toLocaleString('en') : '?';
}

/** Runs one product step; see the file comment. */
export async function runProductStep({ target, rate, opts, flood, workRoot, ticksPerS, receiver, uac, cliOf, firstCli, idleUsPerS = 0, tag = '' }) {
  const workDir = join(workRoot, `${target.name}-${rate}${tag}`);
  mkdirSync(workDir, { recursive: true });
  const procs = target.procs();
  const before = await scrapeTarget(target);
  const redis0 = await redisMemory(target.redisAddr);
  const cpu0 = cpuSnapshot(procs);
  const box0 = machineTicks();
  const drops0 = udpRcvbufErrors();
  const t0 = performance.now();
  const sampler = startSampler(async () => {
    const b = backlogOf(await scrapeTarget(target));
    return { backlog: b.total, depth: b.depth, spool: b.spool, transactions: b.sipTransactions };
  }, 1000);
  const legit = startLegitStream({ target, uac, rate: opts.legit, cliOf, firstIndex: firstCli });
  const sipp = await runSipp({
    ...flood,
    targetHost: target.sipHost,
    targetPort: target.sipPort,
    rate,
    duration: opts.duration,
    transport: opts.transport,
    localPort: await freePort(),
    workDir,
    rtt: opts.rtt,
  });
  const loadS = (performance.now() - t0) / 1000;
  const cpuLoad = cpuSnapshot(procs);
  const box1 = machineTicks();
  const drops1 = udpRcvbufErrors();
  await legit.stop();
  const endScrape = await scrapeTarget(target);
  const backlogEnd = backlogOf(endScrape);

  // The drain: once a second until everything the load started is done, or the limit.
  let drainedAfterS = NaN;
  let last = backlogEnd;
  let drainLeft;
  for (;;) {
    const sinceLoad = (performance.now() - t0) / 1000 - loadS;
    drainLeft = { backlog: last.total, transactions: last.sipTransactions, legit: legit.outstanding(receiver) };
    const done = drainLeft.backlog === 0 && !(drainLeft.transactions > 0) && drainLeft.legit === 0;
    if (done) drainedAfterS = sinceLoad;
    if (done || sinceLoad >= opts.drain || !target.alive()) break;
    await sleep(1000);
    last = backlogOf(await scrapeTarget(target));
  }
  const cpu1 = cpuSnapshot(procs);
  const windowS = (performance.now() - t0) / 1000;
  const samples = await sampler.stop();
  const after = await scrapeTarget(target);
  const backlogAfter = backlogOf(after);
  const redis1 = await redisMemory(target.redisAddr);
  const mem = memoryByName(procs);

  const legitS = legitSummary(legit.entries, receiver);
  const calls = sipp.successful + legitS.created - legitS.callsFailed;
  const load = cpuByName(cpu0, cpuLoad, ticksPerS);
  const parts = cpuByName(cpu0, cpu1, ticksPerS).map((p, i) => ({
    name: p.name,
    pids: p.pids,
    cpuS: p.cpuS,
    loadCpuS: load[i].cpuS,
    usPerCall: calls > 0 ? (p.cpuS * 1e6) / calls : NaN,
    pctLoad: (load[i].cpuS / sipp.wallS) * 100,
    rssMb: mem.get(p.name)?.rssMb ?? NaN,
  }));
  const cpuS = totalCpuS(parts);
  const loadCpuS = totalCpuS(load);
  const b0 = merged(before);
  const b1 = merged(after);
  const step = {
    target: target.name,
    rate,
    alive: target.alive() && cpu1.every((c) => c.ticks !== undefined),
    sipp,
    legit: legitS,
    calls,
    parts,
    cpuS,
    cpuUsPerCall: calls > 0 ? (cpuS * 1e6) / calls : NaN,
    netCpuUsPerCall: calls > 0 ? (cpuS * 1e6 - idleUsPerS * windowS) / calls : NaN,
    // While SIPp was sending only: lower than the whole when the pipeline defers work.
    loadUsPerCall: calls > 0 ? (loadCpuS * 1e6) / calls : NaN,
    cpuPctLoad: (loadCpuS / sipp.wallS) * 100,
    windowS,
    loadS,
    drainLimitS: opts.drain,
    drainedAfterS,
    drainLeft,
    backlogEnd,
    backlogAfter,
    growthPerS: slope(samples, loadS / 2, loadS),
    maxBacklog: Math.max(...samples.map((s) => s.backlog).filter(Number.isFinite), backlogEnd.total || 0),
    samples,
    redisBefore: redis0,
    redisAfter: redis1,
    sippCpuPct: (sipp.sippCpuS / sipp.wallS) * 100,
    otherCores: otherLoadCores(box0, box1, [loadCpuS, sipp.sippCpuS], sipp.wallS),
    udpRcvbufDrops: drops1 - drops0,
    outcomes: countsDelta(b0, b1, 'ringproof_call_outcomes_total', 'outcome'),
    published: countsDelta(b0, b1, 'ringproof_events_published_total', 'result'),
    sipDrops: countsDelta(b0, b1, 'ringproof_sip_drops_total', 'reason'),
    daemonInviteToFinal: histogramDelta(b0, b1, 'ringproof_sip_invite_to_final_seconds'),
    daemonInviteToWebhook: histogramDelta(b0, b1, 'ringproof_invite_to_webhook_seconds'),
  };
  return { ...step, ...judgeSustained(step) };
}
