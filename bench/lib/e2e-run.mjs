// `npm run bench -- --mode e2e`: the whole path a user's verification takes, at a ladder of call
// rates: API create → SIPp call → edge → Redis/BullMQ → worker → signed webhook at a real receiver.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { benchDids, newWebhookSecret, startE2eDaemon } from './e2e-daemon.mjs';
import { renderE2eReport } from './e2e-report.mjs';
import { runE2eStep } from './e2e-step.mjs';
import { e2eVerdicts } from './e2e-verdicts.mjs';
import { machineInfo } from './machine-info.mjs';
import { clockTicks, cpuTicks } from './proc-stats.mjs';
import { startWebhookReceiver } from './webhook-receiver.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Unreported first rung: JIT, BullMQ connections and the receiver's keep-alive pool warm up. */
const WARMUP = { rate: 200, seconds: 2 };
const IDLE_S = 5;
/** After the ladder, how long stragglers may still arrive before a missing webhook counts as lost for good. */
const FINAL_GRACE_MS = 60_000;

function progressLine(s) {
  return (
    `  e2e ${String(s.rate).padStart(5)}/s: achieved ${s.sipp.achievedCps.toFixed(0)}/s, SIPp failed ${s.sipp.failed}, verified ${s.verified}/${s.sessions}, lost ${s.lost},` +
    ` INVITE→webhook p50/p90/p99/max ${s.latency.p50.toFixed(1)}/${s.latency.p90.toFixed(1)}/${s.latency.p99.toFixed(1)}/${s.latency.max.toFixed(1)} ms,` +
    ` daemon ${s.daemonCpuUsPerCall.toFixed(0)} + redis ${s.redisCpuUsPerCall.toFixed(0)} µs/call (${s.daemonPctLoad.toFixed(0)} % + ${s.redisPctLoad.toFixed(0)} % core), RSS ${s.rssMb.toFixed(0)} MB`
  );
}

export async function runE2e({ root, opts, log }) {
  const startedAt = new Date();
  const info = machineInfo(root);
  const ticksPerS = clockTicks();
  const workRoot = mkdtempSync(join(tmpdir(), 'ringproof-bench-e2e-work-'));
  const scenarioXml = join(root, 'sipp-scenarios/uac-reject.xml');
  const secret = newWebhookSecret();
  const problems = [];
  const steps = [];
  let idle;
  log(`bench e2e: rates ${opts.rates.join(',')} calls/s × ${opts.duration} s, ${opts.transport}, ${opts.dids} DIDs; work files in ${workRoot}`);
  log(`bench e2e: ${info.nproc} CPUs (${info.model}), load average ${info.loadAvg.map((x) => x.toFixed(2)).join(' ')}`);

  const receiver = await startWebhookReceiver({ secret });
  let daemon;
  try {
    daemon = await startE2eDaemon({ root, webhookUrl: receiver.url, secret, dids: benchDids(opts.dids), cpuProfDir: opts.cpuProf });
    log(`bench e2e: ringproof pid ${daemon.pid} (redis-server pid ${daemon.redisPid ?? '?'}), SIP udp/tcp 127.0.0.1:${daemon.sipPort}, http ${daemon.httpPort}; receiver ${receiver.url}`);
    if (!daemon.redisPid) problems.push('the embedded redis-server was not found among the daemon\'s children: its CPU is not counted');
    let nextCli = 0;
    const warm = await runE2eStep({ daemon, receiver, rate: WARMUP.rate, opts: { ...opts, duration: WARMUP.seconds, wait: 20, sample: 10 }, firstCli: nextCli, scenarioXml, workRoot, ticksPerS, log: () => {} });
    nextCli += warm.planned;
    log(`  warm-up: ${warm.verified}/${warm.sessions} verified`);
    // Idle cost (BullMQ's blocking reads and timers, metrics probes, redis-server's cron): shown so a
    // low rung's µs/call can be read net of it.
    const idle0 = [cpuTicks(daemon.pid), daemon.redisPid ? cpuTicks(daemon.redisPid) : NaN];
    await sleep(IDLE_S * 1000);
    const idle1 = [cpuTicks(daemon.pid), daemon.redisPid ? cpuTicks(daemon.redisPid) : NaN];
    idle = { daemonUsPerS: ((idle1[0] - idle0[0]) / ticksPerS / IDLE_S) * 1e6, redisUsPerS: ((idle1[1] - idle0[1]) / ticksPerS / IDLE_S) * 1e6 };
    log(`  idle: daemon ${idle.daemonUsPerS.toFixed(0)} µs/s, redis-server ${idle.redisUsPerS.toFixed(0)} µs/s`);
    if (warm.verified === 0) problems.push(`warm-up: no verified webhook at all (daemon output: ${daemon.output().split('\n').slice(-5).join(' / ')})`);
    for (const rate of opts.rates) {
      if (!daemon.alive()) break;
      await sleep(2000);
      const sig0 = { ...receiver.stats };
      let s;
      try {
        s = await runE2eStep({ daemon, receiver, rate, opts, firstCli: nextCli, scenarioXml, workRoot, ticksPerS, log });
      } catch (err) {
        problems.push(`${rate}/s: ${err.message}`);
        log(`bench e2e: ${rate}/s failed: ${err.message}`);
        continue;
      }
      nextCli += s.planned;
      if (idle && s.sipp.successful > 0) {
        s.netDaemonUs = s.daemonCpuUsPerCall - (idle.daemonUsPerS * s.windowS) / s.sipp.successful;
        s.netRedisUs = s.redisCpuUsPerCall - (idle.redisUsPerS * s.windowS) / s.sipp.successful;
      }
      s.sigText = receiver.signaturesChecked ? `${receiver.stats.sigChecked - sig0.sigChecked} (${receiver.stats.sigFailed - sig0.sigFailed})` : 'not checked';
      steps.push(s);
      log(progressLine(s));
      if (s.createErrors.length) problems.push(`${rate}/s: ${s.createErrors.length} session creates failed, first: ${s.createErrors[0]}`);
      if (s.sipp.exitCode !== 0 && s.sipp.exitCode !== 1) problems.push(`${rate}/s: SIPp exit code ${s.sipp.exitCode}: ${s.sipp.stderr.split('\n').slice(-3).join(' / ')}`);
      if (s.sipp.errorSample) problems.push(`${rate}/s: SIPp errors, first lines: ${s.sipp.errorSample.split('\n').join(' / ').slice(0, 400)}`);
      if (s.latency.noCallTime > 0) problems.push(`${rate}/s: ${s.latency.noCallTime} webhooks without verification.callReceivedAt: left out of the latency`);
      if (!s.alive) problems.push(`ringproof died during the ${rate}/s step: ${daemon.output().split('\n').slice(-5).join(' / ')}`);
    }
    // Webhooks that came after a step's wait are late, not lost: give stragglers a last chance, then
    // recount, so the report tells the two apart.
    if (steps.some((s) => s.lost > 0) && daemon.alive()) {
      const missing = () => steps.reduce((n, s) => n + s.ids.length - receiver.countVerified(s.ids), 0);
      let before = missing();
      const t0 = Date.now();
      let lastChange = Date.now();
      while (before > 0 && Date.now() - t0 < FINAL_GRACE_MS && Date.now() - lastChange < 5000) {
        await sleep(500);
        const now = missing();
        if (now !== before) lastChange = Date.now();
        before = now;
      }
    }
    for (const s of steps) s.lostAtEnd = s.ids.length - receiver.countVerified(s.ids);
    if (receiver.stats.sigFailed > 0) problems.push(`${receiver.stats.sigFailed} webhook signatures did not verify`);
  } finally {
    if (daemon) await daemon.stop();
    await receiver.close();
  }
  if (!opts.keep) rmSync(workRoot, { recursive: true, force: true });

  const finishedAt = new Date();
  const verdictList = e2eVerdicts(steps);
  const md = renderE2eReport({ info, opts, steps, verdictList, problems, startedAt, finishedAt, daemonInfo: daemon ?? {}, receiver, idle });
  const stamp = startedAt.toISOString().replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
  const outPath = resolve(opts.out ?? join(root, 'bench/reports', `bench-e2e-${stamp}.md`));
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, md);
  console.log(md);
  for (const v of verdictList) log(`${v.status.padEnd(4)} ${v.name} — ${v.detail}`);
  log(`bench e2e: report written to ${relative(process.cwd(), outPath) || outPath}${opts.keep ? `; SIPp files kept in ${workRoot}` : ''}`);
}
