// `npm run bench -- --mode soak --soak 600 --rates 4000` (issue #8): one long unsolicited flood with the
// legitimate stream through it, sampling every process's RSS and Redis memory, to see whether memory
// stays flat: mean RSS over the first window of the load vs the last.
import { issueVerdicts, MAX_RSS_DRIFT } from './acceptance.mjs';
import { freePort } from './free-port.mjs';
import { legitSummary, startLegitStream } from './legit-stream.mjs';
import { machineInfo } from './machine-info.mjs';
import { readMemory, rssDrift, watchMemory } from './memory-watch.mjs';
import { clockTicks } from './proc-stats.mjs';
import { cpuByName, cpuSnapshot, totalCpuS } from './process-cpu.mjs';
import { PRODUCT_WARMUP, withOneTarget } from './product-run.mjs';
import { runProductStep } from './product-step.mjs';
import { commandLine, f, machineLines, mb, n, publishReport, table, verdictLines } from './report-common.mjs';
import { runSipp } from './sipp-run.mjs';

const SAMPLE_MS = 5000;

/** The windows compared: a minute at each end of runs of 3 minutes or more, else a fifth of the run. */
export function soakWindowS(seconds) {
  return seconds >= 180 ? 60 : seconds / 5;
}

export async function runSoak({ root, opts, log, argv }) {
  const startedAt = new Date();
  const info = machineInfo(root);
  const ticksPerS = clockTicks();
  const problems = [];
  const result = await withOneTarget({ root, opts, floodCalls: opts.rates[0] * opts.soak }, async ({ h, t, flood, rate }) => {
    log(`bench soak: ${t.label}; ${rate} calls/s for ${opts.soak} s with ${opts.legit} legitimate verifications/s`);
    const w = await runProductStep({ target: t, rate: PRODUCT_WARMUP.rate, opts: { ...opts, duration: PRODUCT_WARMUP.seconds, drain: PRODUCT_WARMUP.drain }, flood, workRoot: h.workRoot, ticksPerS, receiver: h.receiver, uac: h.uac, cliOf: h.cliOf, firstCli: 0, tag: '-warmup' });
    h.takeClis(w.legit.started);
    log(`  warm-up: ${w.sipp.successful}/${w.sipp.calls} calls ok — ${w.what}`);
    if (opts.soakWarm > 0) {
      // Unreported: the caps of the bounded state fill and V8 sizes its heap, so the first window is steady state.
      const ws = await runSipp({ ...flood, targetHost: t.sipHost, targetPort: t.sipPort, rate, duration: opts.soakWarm, transport: opts.transport, localPort: await freePort(), workDir: h.workRoot, rtt: false });
      log(`  soak warm-up: ${ws.successful}/${ws.calls} calls ok at ${rate}/s for ${opts.soakWarm} s`);
    }
    const procs = t.procs();
    const start = await readMemory(t);
    const cpu0 = cpuSnapshot(procs);
    const watch = watchMemory(t, SAMPLE_MS);
    const legit = startLegitStream({ target: t, uac: h.uac, rate: opts.legit, cliOf: h.cliOf, firstIndex: h.nextCli });
    const sipp = await runSipp({ ...flood, targetHost: t.sipHost, targetPort: t.sipPort, rate, duration: opts.soak, transport: opts.transport, localPort: await freePort(), workDir: h.workRoot, rtt: false });
    const cpu1 = cpuSnapshot(procs);
    await legit.stop();
    const end = await readMemory(t);
    const samples = await watch.stop();
    const loadS = sipp.wallS;
    const win = soakWindowS(Math.min(opts.soak, loadS));
    const calls = sipp.successful;
    const parts = cpuByName(cpu0, cpu1, ticksPerS);
    const r = {
      layout: opts.layouts[0],
      label: t.label,
      rate,
      seconds: opts.soak,
      windowS: win,
      sipp,
      start,
      end,
      drift: rssDrift(samples, [0, win], [loadS - win, loadS]),
      samples,
      cpuUsPerCall: calls > 0 ? (totalCpuS(parts) * 1e6) / calls : NaN,
      parts: parts.map((p) => ({ name: p.name, usPerCall: calls > 0 ? (p.cpuS * 1e6) / calls : NaN })),
      legit: legitSummary(legit.entries, h.receiver),
      alive: t.alive(),
    };
    if (!r.alive) problems.push(`a daemon process died: ${t.output().split('\n').slice(-5).join(' / ')}`);
    if (watch.errors.count) problems.push(`${watch.errors.count} memory readings failed, first: ${watch.errors.first.split('\n').slice(0, 3).join(' / ')}`);
    if (sipp.errorSample) problems.push(`SIPp errors, first lines: ${sipp.errorSample.split('\n').join(' / ').slice(0, 400)}`);
    return r;
  });
  const verdictList = issueVerdicts({ soak: { result } }).filter((v) => v.name.startsWith('#8 RSS'));
  const md = renderSoakReport({ info, opts, argv, r: result, verdictList, problems, startedAt, finishedAt: new Date() });
  const outPath = publishReport({ root, opts, prefix: 'bench-soak', startedAt, md });
  for (const v of verdictList) log(`${v.status.padEnd(4)} ${v.name} — ${v.detail}`);
  log(`bench soak: report written to ${outPath}`);
}

export function renderSoakReport({ info, opts, argv, r, verdictList, problems, startedAt, finishedAt }) {
  const out = [];
  const l = r.legit;
  out.push(`# ringproof soak bench — ${startedAt.toISOString()}`, '');
  out.push(`Command: \`${commandLine(argv)}\``, '');
  out.push(`${n(r.rate)} unsolicited calls/s for ${r.seconds} s into ${r.label}, with ${opts.legit} legitimate verifications/s through the flood; every process's RSS and Redis memory sampled every ${SAMPLE_MS / 1000} s.`, '');
  out.push('## Issue #8 target', '', ...verdictLines(verdictList), '');
  out.push(`## RSS, mean of the first ${f(r.windowS)} s of the load vs the last ${f(r.windowS)} s`, '', table(
    ['process', 'first MB', 'last MB', 'change', `flat (± ${MAX_RSS_DRIFT * 100} %)`, 'max MB'],
    r.drift.map((d) => [d.name, f(d.firstMb, 1), f(d.lastMb, 1), `${d.change >= 0 ? '+' : ''}${f(d.change * 100, 1)} %`, Math.abs(d.change) <= MAX_RSS_DRIFT ? 'yes' : 'no', f(d.maxMb, 1)]),
  ), '');
  out.push('## Calls, CPU, Redis', '', table(
    ['calls ok (sent)', 'failed', 'achieved cps', 'CPU µs/call all processes', 'per process', 'Redis used MB start → end', 'keys start → end', 'backlog at the end', 'legit verified', 'legit INVITE→webhook p50/p99 ms'],
    [[`${n(r.sipp.successful)} (${n(r.sipp.calls)})`, n(r.sipp.failed), f(r.sipp.achievedCps), f(r.cpuUsPerCall, 1), r.parts.map((p) => `${p.name} ${f(p.usPerCall, 1)}`).join(' + '),
      `${mb(r.start.redis.usedBytes)} → ${mb(r.end.redis.usedBytes)}`, `${n(r.start.redis.keys)} → ${n(r.end.redis.keys)}`, n(r.end.backlog), `${n(l.verified)}/${n(l.started)}`, `${f(l.latency.p50, 1)}/${f(l.latency.p99, 1)}`]],
  ), '');
  const names = r.drift.map((d) => d.name);
  const every = Math.max(1, Math.ceil(r.samples.length / 30));
  out.push('## Over time', '', table(
    ['t s', ...names.map((x) => `${x} RSS MB`), 'Redis used MB', 'backlog'],
    r.samples.filter((_, i) => i % every === 0).map((s) => [f(s.t), ...names.map((x) => f(s.rss[x], 1)), mb(s.redis.usedBytes), n(s.backlog)]),
  ), '');
  out.push('## Run', '', `- layout ${r.layout}, ${r.rate} calls/s for ${r.seconds} s after a warm-up of ${PRODUCT_WARMUP.rate} calls/s × ${PRODUCT_WARMUP.seconds} s${opts.soakWarm > 0 ? ` and ${opts.soakWarm} s of unreported flood at ${r.rate} calls/s (--soak-warm: bounded caches and V8's heap at their steady size before the first window)` : ''}; ${opts.dids} DIDs`, `- duration ${f((finishedAt - startedAt) / 1000)} s in all`);
  out.push('', '## Machine', '', ...machineLines(info));
  out.push('', '## How to read this', '', '- **RSS** = VmRSS of each process (node, the embedded redis-server; each role process in the split layout), sampled every 5 s while SIPp sends. The issue\'s target is the last window within ± 10 % of the first. **CPU µs/call** covers the load only (no drain).');
  if (problems.length) out.push('', '## Problems seen', '', ...problems.map((p) => `- ${p}`));
  out.push('');
  return out.join('\n');
}
