// `npm run bench -- --mode flood-memory` (issue #15): N unsolicited calls at one rate into a fresh
// daemon, and what they leave in Redis: used_memory before, at peak and `--after` s after the flood,
// bytes per call, keys, the daemon's RSS, and the CPU per call until the backlog drained.
import { AFTER_S, issueVerdicts } from './acceptance.mjs';
import { freePort } from './free-port.mjs';
import { legitSummary, startLegitStream } from './legit-stream.mjs';
import { machineInfo } from './machine-info.mjs';
import { peakOf, readMemory, watchMemory } from './memory-watch.mjs';
import { clockTicks, machineTicks, otherLoadCores } from './proc-stats.mjs';
import { cpuByName, cpuSnapshot, totalCpuS } from './process-cpu.mjs';
import { withOneTarget } from './product-run.mjs';
import { commandLine, f, machineLines, mb, n, publishReport, table, verdictLines } from './report-common.mjs';
import { runSipp } from './sipp-run.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Quiet time after start-up before the "before" reading (the daemon's start-up writes settle). */
const QUIET_S = 5;

export async function runFloodMemory({ root, opts, log, argv }) {
  const startedAt = new Date();
  const info = machineInfo(root);
  const ticksPerS = clockTicks();
  const problems = [];
  const result = await withOneTarget({ root, opts, floodCalls: opts.calls }, async ({ h, t, flood, rate }) => {
    log(`bench flood-memory: ${t.label}; ${n(opts.calls)} unsolicited calls at ${rate}/s, then ${opts.after} s watching Redis memory`);
    await sleep(QUIET_S * 1000);
    const before = await readMemory(t);
    const procs = t.procs();
    const cpu0 = cpuSnapshot(procs);
    const box0 = machineTicks();
    const t0 = performance.now();
    const watch = watchMemory(t, 1000);
    const legit = startLegitStream({ target: t, uac: h.uac, rate: opts.legit, cliOf: h.cliOf, firstIndex: 0 });
    const sipp = await runSipp({ ...flood, targetHost: t.sipHost, targetPort: t.sipPort, rate, duration: opts.calls / rate, transport: opts.transport, localPort: await freePort(), workDir: h.workRoot, rtt: false });
    const floodS = (performance.now() - t0) / 1000;
    const cpuLoad = cpuSnapshot(procs);
    const box1 = machineTicks();
    await legit.stop();
    log(`  flood done in ${f(floodS)} s: ${n(sipp.successful)}/${n(sipp.calls)} calls ok, ${n(sipp.failed)} failed; watching for ${opts.after} s`);
    // The after-window: CPU counted until the backlog drained; memory read at its end.
    let cpuDrained;
    let drainedAfterS = NaN;
    const afterT0 = performance.now();
    while ((performance.now() - afterT0) / 1000 < opts.after) {
      await sleep(1000);
      const last = watch.samples[watch.samples.length - 1];
      if (!cpuDrained && last && last.t > floodS && last.backlog === 0) {
        cpuDrained = cpuSnapshot(procs);
        drainedAfterS = (performance.now() - afterT0) / 1000;
      }
    }
    const cpuEnd = cpuDrained ?? cpuSnapshot(procs);
    const after = await readMemory(t);
    const samples = await watch.stop();
    const peak = peakOf([...samples, after]) ?? after;
    const calls = sipp.successful;
    const parts = cpuByName(cpu0, cpuEnd, ticksPerS);
    const cpuS = totalCpuS(parts);
    const loadS = totalCpuS(cpuByName(cpu0, cpuLoad, ticksPerS));
    const r = {
      layout: opts.layouts[0],
      label: t.label,
      rate,
      calls,
      sent: sipp.calls,
      failed: sipp.failed,
      achievedCps: sipp.achievedCps,
      floodS,
      afterS: opts.after,
      drainedAfterS,
      before: { ...before.redis, rss: before.rss },
      peak: { ...peak.redis, rss: peak.rss, t: peak.t },
      after: { ...after.redis, rss: after.rss, backlog: after.backlog },
      cpuUsPerCall: calls > 0 ? (cpuS * 1e6) / calls : NaN,
      parts: parts.map((p) => ({ name: p.name, usPerCall: calls > 0 ? (p.cpuS * 1e6) / calls : NaN })),
      cpuPctLoad: (loadS / sipp.wallS) * 100,
      sippCpuPct: (sipp.sippCpuS / sipp.wallS) * 100,
      otherCores: otherLoadCores(box0, box1, [loadS, sipp.sippCpuS], sipp.wallS),
      legit: opts.legit > 0 ? legitSummary(legit.entries, h.receiver) : undefined,
      samples,
      alive: t.alive(),
    };
    if (!r.alive) problems.push(`a daemon process died: ${t.output().split('\n').slice(-5).join(' / ')}`);
    if (sipp.errorSample) problems.push(`SIPp errors, first lines: ${sipp.errorSample.split('\n').join(' / ').slice(0, 400)}`);
    if (!Number.isFinite(before.redis.usedBytes)) problems.push('Redis did not answer INFO before the flood');
    if (watch.errors.count) problems.push(`${watch.errors.count} memory readings failed, first: ${watch.errors.first.split('\n').slice(0, 3).join(' / ')}`);
    return r;
  });
  const verdictList = issueVerdicts({ floodMemory: { result } }).filter((v) => v.name.startsWith('#15 after'));
  const md = renderFloodMemoryReport({ info, opts, argv, r: result, verdictList, problems, startedAt, finishedAt: new Date() });
  const outPath = publishReport({ root, opts, prefix: 'bench-flood-memory', startedAt, md });
  for (const v of verdictList) log(`${v.status.padEnd(4)} ${v.name} — ${v.detail}`);
  log(`bench flood-memory: report written to ${outPath}`);
}

const rssText = (rss) => Object.entries(rss ?? {}).map(([k, v]) => `${k} ${f(v)}`).join(', ') || '–';

export function renderFloodMemoryReport({ info, opts, argv, r, verdictList, problems, startedAt, finishedAt }) {
  const out = [];
  out.push(`# ringproof flood-memory bench — ${startedAt.toISOString()}`, '');
  out.push(`Command: \`${commandLine(argv)}\``, '');
  out.push(`${n(r.calls)} unsolicited calls (random caller IDs, no pending session) at ${n(r.rate)} calls/s into ${r.label}, then ${r.afterS} s of quiet. Redis memory is read with INFO over the daemon's own connection address.`, '');
  out.push('## Issue #15 target', '', ...verdictLines(verdictList), '');
  const growth = (x) => x.usedBytes - r.before.usedBytes;
  out.push('## Redis memory', '', table(
    ['when', 'used_memory MB', 'growth MB', 'bytes per call', 'used_memory_rss MB', 'keys', 'keys with TTL', 'process RSS MB'],
    [
      ['before the flood', mb(r.before.usedBytes), '–', '–', mb(r.before.rssBytes), n(r.before.keys), n(r.before.expires), rssText(r.before.rss)],
      [`peak (${f(r.peak.t)} s after the start)`, mb(r.peak.usedBytes), mb(growth(r.peak)), f(growth(r.peak) / r.calls, 1), mb(r.peak.rssBytes), n(r.peak.keys), n(r.peak.expires), rssText(r.peak.rss)],
      [`${r.afterS} s after the flood`, mb(r.after.usedBytes), mb(growth(r.after)), f(growth(r.after) / r.calls, 1), mb(r.after.rssBytes), n(r.after.keys), n(r.after.expires), rssText(r.after.rss)],
    ],
  ), '');
  out.push('## Calls and CPU', '', table(
    ['calls ok (sent)', 'failed', 'achieved cps', 'flood s', 'backlog drained after s', 'backlog at the end', 'CPU µs/call all processes', 'per process', 'CPU % core during flood', 'SIPp CPU %', 'other load (cores)'],
    [[`${n(r.calls)} (${n(r.sent)})`, n(r.failed), f(r.achievedCps), f(r.floodS), Number.isFinite(r.drainedAfterS) ? f(r.drainedAfterS) : `not in ${r.afterS}`, n(r.after.backlog), f(r.cpuUsPerCall, 1), r.parts.map((p) => `${p.name} ${f(p.usPerCall, 1)}`).join(' + '), f(r.cpuPctLoad), f(r.sippCpuPct), f(r.otherCores, 2)]],
  ), '');
  if (r.legit) out.push(`Legitimate stream (${opts.legit}/s): ${n(r.legit.verified)}/${n(r.legit.started)} verified, INVITE→webhook p50/p99 ${f(r.legit.latency.p50, 1)}/${f(r.legit.latency.p99, 1)} ms.`, '');
  const every = Math.max(1, Math.ceil(r.samples.length / 30));
  out.push('## Over time', '', table(
    ['t s', 'used_memory MB', 'keys', 'backlog', 'process RSS MB'],
    r.samples.filter((_, i) => i % every === 0).map((s) => [f(s.t), mb(s.redis.usedBytes), n(s.redis.keys), n(s.backlog), rssText(s.rss)]),
  ), '');
  out.push('## Run', '', `- layout ${r.layout}, rate ${r.rate} calls/s, ${n(opts.calls)} calls, watch ${r.afterS} s after (acceptance reads it at ${AFTER_S} s), ${opts.dids} DIDs, legit ${opts.legit}/s`);
  out.push(`- duration ${f((finishedAt - startedAt) / 1000)} s in all`, '', '## Machine', '', ...machineLines(info));
  out.push('', '## How to read this', '',
    '- **used_memory** is Redis\'s own count of the bytes it allocated (INFO memory), read before the flood (after a fresh start and a few quiet seconds), every second during it (the peak is the highest reading), and at the end of the watch. **bytes per call** = growth / calls answered. A design whose per-call state outlives the carrier\'s retransmission window shows the growth still there after the watch.',
    '- **CPU µs/call** = utime+stime of every process of the daemon (node and redis-server) from the start of the flood until the backlog first read 0 after it (or the end of the watch), / calls answered.');
  if (problems.length) out.push('', '## Problems seen', '', ...problems.map((p) => `- ${p}`));
  out.push('');
  return out.join('\n');
}
