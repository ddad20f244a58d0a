// `npm run bench -- --mode product`: ringproof as users run it (role all with its embedded Redis,
// and/or split roles on one Redis) under an unsolicited SIPp flood at a ladder of rates, with a paced
// stream of legitimate verifications through it, beside Kamailio's stateless reject when installed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueVerdicts } from './acceptance.mjs';
import { benchDids, newWebhookSecret } from './e2e-daemon.mjs';
import { benchCli } from './e2e-step.mjs';
import { writeFloodScenario } from './flood-calls.mjs';
import { kamailioVersion, startKamailio } from './kamailio.mjs';
import { machineInfo } from './machine-info.mjs';
import { clockTicks } from './proc-stats.mjs';
import { idleBaseline } from './process-cpu.mjs';
import { renderProductReport } from './product-report.mjs';
import { leftText, runProductStep } from './product-step.mjs';
import { startProductTarget } from './product-targets.mjs';
import { publishReport } from './report-common.mjs';
import { createUac } from './sip-uac.mjs';
import { measureStep } from './step.mjs';
import { startWebhookReceiver } from './webhook-receiver.mjs';

/** Unreported first step per target: JIT, BullMQ connections, the receiver's keep-alive pool. */
export const PRODUCT_WARMUP = { rate: 2000, seconds: 3, drain: 30 };

/** Why there is no Kamailio row, or undefined when it can run ('reference unavailable: …'). */
export function kamailioUnavailable(opts) {
  if (!opts.targets.includes('kamailio')) return 'reference unavailable: kamailio not in --targets';
  return kamailioVersion(opts.kamailioBin) ? undefined : `reference unavailable: \`${opts.kamailioBin}\` is not installed (Debian/Ubuntu: apt-get install kamailio)`;
}

/**
 * Starts the flood's fixtures shared by the product-like modes: webhook receiver, the legitimate
 * stream's UAC, the work directory. close() undoes them.
 */
export async function startHarness({ opts }) {
  const secret = newWebhookSecret();
  const receiver = await startWebhookReceiver({ secret });
  const uac = await createUac();
  const workRoot = mkdtempSync(join(tmpdir(), 'ringproof-bench-product-'));
  let nextCli = 0;
  return {
    secret,
    receiver,
    uac,
    workRoot,
    dids: benchDids(opts.dids),
    /** Legitimate callers are distinct across the whole run, so no session supersedes another. */
    cliOf: benchCli,
    takeClis: (n) => {
      const first = nextCli;
      nextCli += n;
      return first;
    },
    get nextCli() {
      return nextCli;
    },
    close: async () => {
      await uac.close();
      await receiver.close();
      if (!opts.keep) rmSync(workRoot, { recursive: true, force: true });
    },
  };
}

/**
 * The frame of the single-target modes (flood-memory, soak): the harness, a flood file of
 * `floodCalls` rows, the first layout started; `body({h, t, flood, rate})` measures; everything is
 * stopped after it, whatever happens. Resolves with body's result.
 */
export async function withOneTarget({ root, opts, floodCalls }, body) {
  const h = await startHarness({ opts });
  let t;
  try {
    const flood = await writeFloodScenario({ root, workDir: h.workRoot, calls: floodCalls, dids: h.dids });
    t = await startProductTarget({ root, layout: opts.layouts[0], webhookUrl: h.receiver.url, secret: h.secret, dids: h.dids, workers: opts.workers, redisFsync: opts.redisFsync, cpuProfDir: opts.cpuProf });
    return await body({ h, t, flood, rate: opts.rates[0] });
  } finally {
    if (t) await t.stop();
    await h.close();
  }
}

function progressLine(s) {
  const l = s.legit;
  return (
    `  ${s.target.padEnd(16)} ${String(s.rate).padStart(6)}/s: achieved ${s.sipp.achievedCps.toFixed(0)}/s, failed ${s.sipp.failed}/${s.sipp.calls},` +
    ` CPU ${s.cpuUsPerCall.toFixed(1)} µs/call [${s.parts.map((p) => `${p.name} ${p.usPerCall.toFixed(1)}`).join(' + ')}],` +
    ` backlog end ${s.backlogEnd.total} max ${s.maxBacklog}, drained ${Number.isFinite(s.drainedAfterS) ? `${s.drainedAfterS.toFixed(0)} s` : 'no'},` +
    ` legit ${l.verified}/${l.started} p50/p99 ${l.latency.p50.toFixed(1)}/${l.latency.p99.toFixed(1)} ms — ${s.what}`
  );
}

export async function runProduct({ root, opts, log, argv }) {
  const startedAt = new Date();
  const info = machineInfo(root);
  const ticksPerS = clockTicks();
  const problems = [];
  const steps = [];
  const refs = [];
  const labels = {};
  let idle = [];
  const kamailioNA = kamailioUnavailable(opts);
  if (kamailioNA) log(`bench product: ${kamailioNA}`);
  const h = await startHarness({ opts });
  log(`bench product: layouts ${opts.layouts.join(',')}, rates ${opts.rates.join(',')} calls/s × ${opts.duration} s, legit ${opts.legit}/s, drain ≤ ${opts.drain} s; work files in ${h.workRoot}`);
  log(`bench product: ${info.nproc} CPUs (${info.model}), load average ${info.loadAvg.map((x) => x.toFixed(2)).join(' ')}`);
  const targets = [];
  let kamailio;
  try {
    // One injection file for every step: the biggest step's worth of random unsolicited CLIs.
    const flood = await writeFloodScenario({ root, workDir: h.workRoot, calls: Math.max(...opts.rates) * opts.duration, dids: h.dids });
    if (!kamailioNA) {
      try {
        kamailio = await startKamailio({ root, transport: opts.transport, bin: opts.kamailioBin });
        labels.kamailio = kamailio.label;
        log(`bench product: ${kamailio.label} pid ${kamailio.pid} on udp:127.0.0.1:${kamailio.sipPort}`);
      } catch (err) {
        problems.push(`kamailio did not start: ${err.message.split('\n').slice(0, 4).join(' / ')}`);
      }
    }
    for (const layout of opts.layouts) {
      try {
        const t = await startProductTarget({ root, layout, webhookUrl: h.receiver.url, secret: h.secret, dids: h.dids, workers: opts.workers, redisFsync: opts.redisFsync, cpuProfDir: opts.cpuProf });
        targets.push(t);
        labels[t.name] = t.label;
        log(`bench product: ${t.label}: ${t.procs().map((p) => `${p.name} ${p.pid}`).join(', ')}; SIP udp:127.0.0.1:${t.sipPort}, API ${t.apiPort}`);
      } catch (err) {
        problems.push(`layout ${layout} did not start: ${err.message.split('\n').slice(0, 6).join(' / ')}`);
        log(`bench product: layout ${layout} did not start: ${err.message}`);
      }
    }
    const stepArgs = (target, rate, o, tag) => ({
      target, rate, opts: o, flood, workRoot: h.workRoot, ticksPerS, receiver: h.receiver, uac: h.uac, cliOf: h.cliOf, firstCli: h.nextCli, tag,
    });
    for (const t of targets) {
      const w = await runProductStep(stepArgs(t, PRODUCT_WARMUP.rate, { ...opts, duration: PRODUCT_WARMUP.seconds, drain: PRODUCT_WARMUP.drain }, '-warmup'));
      h.takeClis(w.legit.started);
      log(`  warm-up ${t.name}: ${w.sipp.successful}/${w.sipp.calls} calls ok, legit ${w.legit.verified}/${w.legit.started} verified — ${w.what}`);
      if (opts.legit > 0 && w.legit.verified === 0) problems.push(`${t.name} warm-up: no legitimate verification got its webhook (daemon output: ${t.output().split('\n').slice(-4).join(' / ')})`);
    }
    const all = [...(kamailio ? [kamailio] : []), ...targets];
    idle = all.length ? await idleBaseline(all, ticksPerS) : [];
    const idleOf = new Map(idle.map((i) => [i.target, Number.isFinite(i.usPerS) ? i.usPerS : 0]));
    for (const rate of opts.rates) {
      // Kamailio first at each rate, then each layout: the ratio compares runs minutes apart at most.
      if (kamailio?.alive()) {
        const r = await measureStep({ target: kamailio, rate, opts, scenario: flood, workRoot: h.workRoot, ticksPerS, idleUsPerS: idleOf.get('kamailio') });
        refs.push(r);
        log(`  ${'kamailio'.padEnd(16)} ${String(rate).padStart(6)}/s: achieved ${r.sipp.achievedCps.toFixed(0)}/s, failed ${r.sipp.failed}, CPU ${r.cpuUsPerCall.toFixed(1)} µs/call (${r.cpuPctLoad.toFixed(0)} % core)`);
        if (r.sipp.failed > 0) problems.push(`kamailio at ${rate}/s: ${r.sipp.failed} failed calls`);
      }
      for (const t of targets) {
        if (!t.alive()) continue;
        const s = await runProductStep({ ...stepArgs(t, rate, opts, ''), idleUsPerS: idleOf.get(t.name) });
        h.takeClis(s.legit.started);
        steps.push(s);
        log(progressLine(s));
        if (s.sipp.exitCode !== 0 && s.sipp.exitCode !== 1) problems.push(`${t.name} at ${rate}/s: SIPp exit code ${s.sipp.exitCode}: ${s.sipp.stderr.split('\n').slice(-3).join(' / ')}`);
        if (s.sipp.errorSample) problems.push(`${t.name} at ${rate}/s: SIPp errors, first lines: ${s.sipp.errorSample.split('\n').join(' / ').slice(0, 400)}`);
        if (!s.alive) problems.push(`${t.name} died during the ${rate}/s step: ${t.output().split('\n').slice(-5).join(' / ')}`);
        if (!Number.isFinite(s.drainedAfterS)) problems.push(`${t.name} at ${rate}/s: backlog not drained within --drain ${opts.drain} s (left: ${leftText(s.drainLeft)}); the next step started on top of it`);
      }
    }
    if (h.receiver.stats.sigFailed > 0) problems.push(`${h.receiver.stats.sigFailed} webhook signatures did not verify`);
  } finally {
    for (const t of targets) await t.stop();
    if (kamailio) await kamailio.stop();
    await h.close();
  }
  const finishedAt = new Date();
  const verdictList = issueVerdicts({ product: { steps, refs, duration: opts.duration, legitRate: opts.legit, kamailioNA } });
  const md = renderProductReport({ info, opts, argv, steps, refs, verdictList, idle, problems, startedAt, finishedAt, labels, kamailioNA, receiver: h.receiver });
  const outPath = publishReport({ root, opts, prefix: 'bench-product', startedAt, md });
  for (const v of verdictList) if (v.status !== 'N/A' || !v.detail.startsWith('not measured')) log(`${v.status.padEnd(4)} ${v.name} — ${v.detail}`);
  log(`bench product: report written to ${outPath}`);
}
