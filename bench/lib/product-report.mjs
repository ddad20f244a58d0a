// The product mode's markdown report: issue #8's table (Kamailio vs the daemon per rate), then per
// layout the pipeline (CPU, backlog, drain) and the legitimate stream through the flood.
import { leftText } from './product-step.mjs';
import { commandLine, f, machineLines, mb, n, table, verdictLines } from './report-common.mjs';

const ms = (s) => f(s * 1000, 1);
const counts = (o) => Object.entries(o ?? {}).map(([k, v]) => `${n(v)} ${k || '(none)'}`).join(', ') || '–';
const perProcess = (s, key, digits = 1) => s.parts.map((p) => `${p.name} ${f(p[key], digits)}`).join(' + ');

/** The issue's summary table: per rate, Kamailio's µs/call and each layout's, with its ratio and what happened. */
function summaryTable(steps, refs) {
  const names = [...new Set(steps.map((s) => s.target))];
  const rates = [...new Set([...refs.map((r) => r.rate), ...steps.map((s) => s.rate)])].sort((a, b) => a - b);
  return table(
    ['calls/s', 'Kamailio µs/call', ...names.flatMap((t) => [`${t} µs/call (× Kamailio)`, `what happened in ${t}`])],
    rates.map((rate) => {
      const k = refs.find((r) => r.rate === rate);
      return [
        n(rate),
        k ? f(k.cpuUsPerCall, 1) : '–',
        ...names.flatMap((t) => {
          const s = steps.find((x) => x.target === t && x.rate === rate);
          if (!s) return ['–', '–'];
          const ratio = k ? ` (${f(s.cpuUsPerCall / k.cpuUsPerCall, 2)}×${Number.isFinite(s.drainedAfterS) ? '' : ', work deferred'})` : '';
          return [`${f(s.cpuUsPerCall, 1)}${ratio}`, s.what];
        }),
      ];
    }),
  );
}

function pipelineTable(steps, refs) {
  return table(
    ['rate', 'achieved cps', 'failed SIP (of flood)', 'CPU µs/call all processes (net of idle)', 'per process µs/call', 'µs/call during load only', '× Kamailio', 'CPU % core during load', 'backlog at end of load (queue + spool)', 'max backlog', 'growth/s (2nd half)', 'drained after s', 'call outcomes', 'events published', 'SIP drops', 'daemon INVITE→final p99 ms', 'redis used MB before → after', 'RSS MB per process', 'SIPp CPU %', 'other load (cores)'],
    steps.map((s) => {
      const k = refs.find((r) => r.rate === s.rate);
      return [
        n(s.rate),
        f(s.sipp.achievedCps),
        `${n(s.sipp.failed)} of ${n(s.sipp.calls)}${s.alive ? '' : ' (a process died)'}`,
        `${f(s.cpuUsPerCall, 1)} (${f(s.netCpuUsPerCall, 1)})`,
        perProcess(s, 'usPerCall'),
        f(s.loadUsPerCall, 1),
        k ? f(s.cpuUsPerCall / k.cpuUsPerCall, 2) : '–',
        f(s.cpuPctLoad),
        `${n(s.backlogEnd.total)} (${n(s.backlogEnd.depth)} + ${n(s.backlogEnd.spool)})`,
        n(s.maxBacklog),
        n(s.growthPerS),
        Number.isFinite(s.drainedAfterS) ? f(s.drainedAfterS) : `not in ${s.drainLimitS} (left: ${leftText(s.drainLeft)})`,
        counts(s.outcomes),
        counts(s.published),
        counts(s.sipDrops),
        ms(s.daemonInviteToFinal.p99),
        `${mb(s.redisBefore.usedBytes)} → ${mb(s.redisAfter.usedBytes)}`,
        perProcess(s, 'rssMb', 0),
        f(s.sippCpuPct),
        f(s.otherCores, 2),
      ];
    }),
  );
}

function legitTable(steps) {
  return table(
    ['rate (flood)', 'legit started', 'created (errors)', 'create p50/p99 ms', 'calls unanswered', 'verified', 'lost (no webhook)', 'INVITE→webhook p50/p99/max ms (receiver)', 'daemon read→webhook p50/p99 ms', 'daemon INVITE→webhook histogram p50/p99 ms', 'UAC retransmits'],
    steps.map((s) => {
      const l = s.legit;
      return [
        n(s.rate),
        n(l.started),
        `${n(l.created)}${Object.keys(l.createErrors).length ? ` (${counts(l.createErrors)})` : ''}`,
        `${f(l.createMs.p50, 1)}/${f(l.createMs.p99, 1)}`,
        n(l.callsFailed),
        n(l.verified),
        n(l.lost),
        `${f(l.latency.p50, 1)}/${f(l.latency.p99, 1)}/${f(l.latency.max, 1)}`,
        `${f(l.daemonLatency.p50, 1)}/${f(l.daemonLatency.p99, 1)}`,
        `${ms(s.daemonInviteToWebhook.p50)}/${ms(s.daemonInviteToWebhook.p99)}`,
        n(l.retransmits),
      ];
    }),
  );
}

function kamailioTable(refs) {
  return table(
    ['rate', 'achieved cps', 'failed', 'CPU µs/call (net of idle)', 'CPU % core', 'PSS MB (all processes)', 'SIPp CPU %', 'other load (cores)'],
    refs.map((r) => [n(r.rate), f(r.sipp.achievedCps), n(r.sipp.failed), `${f(r.cpuUsPerCall, 1)} (${f(r.netCpuUsPerCall, 1)})`, f(r.cpuPctLoad), f(r.rssMb, 1), f(r.sippCpuPct), f(r.otherCores, 2)]),
  );
}

export const PRODUCT_HOW_TO_READ = [
  '- **Flood**: SIPp `sipp-scenarios/uac-reject.xml` (INVITE → 486/603 with a Q.850 Reason → ACK) over loopback UDP, one random unsolicited caller ID (+44 79xx xxxxxx, no pending session) per call to the daemon\'s DIDs. **failed SIP** = SIPp failed calls plus calls it never finished (no final response in time).',
  '- **CPU µs/call** = utime+stime (+ reaped children, e.g. redis-server\'s AOF rewrite) of every process of the daemon — node and redis-server, every role process in the split layout — from the start of the load until the backlog has drained (or the drain limit), / (flood calls answered + legitimate calls). Deferred work is therefore charged to the calls; when the backlog did not drain, the figure is a lower bound ("work deferred"). **µs/call during load only** stops at the end of SIPp.',
  '- **backlog** = Σ `ringproof_queue_depth` (waiting + prioritized + active jobs, every queue) + Σ `ringproof_spool_events` (disk spool of every edge), read from `/metrics`. A step is **sustained** when SIPp got ≥ 95 % of the rate through with 0 failures, the backlog at the end of the load is ≤ 1 s of calls, it did not grow over the load\'s second half by more than 1 % of the rate per second, and it was back to 0 ≤ 10 s after the load.',
  '- **Legitimate stream**: every 1/rate s the bench creates a session through the HTTP API (POST /v1/verifications, as the app would) and its own UDP UAC calls the DID it was given from that number. **INVITE→webhook** = receiver\'s arrival time of the `verification.verified` webhook (a real HTTP server in the bench process) − the UAC\'s INVITE send time, same clock; a call without its webhook counts as infinitely late. **daemon read→webhook** uses `callReceivedAt` from the webhook instead.',
  '- **Kamailio** runs `bench/kamailio-reject.cfg` (stateless `sl_send_reply` 486 with the same Reason, TLSF allocator, 4 UDP children), driven by the same flood file at the same rate just before the daemon; its CPU is that of all its processes. **× Kamailio** = daemon µs/call / Kamailio µs/call.',
  '- **redis used MB** = `used_memory` from redis INFO at the step\'s start and end (the embedded Redis over its unix socket, the split layout\'s over TCP). **RSS** = VmRSS at the end of the step.',
  '- The machine is shared (2 cores with other people\'s work): "other load" is the rest of the box\'s busy CPU during the load, in cores. Compare rows of the same run.',
];

export function renderProductReport({ info, opts, argv, steps, refs, verdictList, idle, problems, startedAt, finishedAt, labels, kamailioNA, receiver }) {
  const out = [];
  out.push(`# ringproof product bench — ${startedAt.toISOString()}`, '');
  out.push(`Command: \`${commandLine(argv)}\``, '');
  out.push('The daemon as users run it, under an unsolicited SIPp flood at each rate, with a paced stream of legitimate verifications through the flood. Kamailio\'s stateless reject is measured in the same run as the yardstick.', '');
  out.push('## Issue #8 / #15 targets', '', ...verdictLines(verdictList), '');
  out.push('## CPU per call vs Kamailio', '', summaryTable(steps, refs), '');
  if (kamailioNA) out.push(`Kamailio: ${kamailioNA}.`, '');
  for (const name of [...new Set(steps.map((s) => s.target))]) {
    const mine = steps.filter((s) => s.target === name);
    out.push(`## ${labels[name] ?? name}`, '');
    out.push('### Pipeline, CPU and memory', '', pipelineTable(mine, refs), '');
    out.push(`### Legitimate verifications through the flood (${opts.legit}/s)`, '', legitTable(mine), '');
  }
  if (refs.length) out.push(`## ${labels.kamailio ?? 'kamailio'}`, '', kamailioTable(refs), '');
  out.push('## Run', '');
  out.push(`- layouts ${opts.layouts.join(', ')}; rates ${opts.rates.join(', ')} calls/s, ${opts.duration} s each; legitimate ${opts.legit}/s; drain limit ${opts.drain} s; ${opts.dids} DIDs; transport ${opts.transport}`);
  if (opts.layouts.includes('split')) out.push(`- split layout: ${opts.workers} worker process(es), redis-server appendfsync ${opts.redisFsync}`);
  if (idle.length) out.push(`- idle CPU before the ladder (every process): ${idle.map((i) => `${i.target} ${f(i.usPerS)} µs/s`).join(', ')} (subtracted over each step's window for "net of idle")`);
  out.push(`- webhook receiver: ${receiver.stats.requests} requests, ${receiver.stats.verifiedEvents} verified + ${receiver.stats.expiredEvents} expired events, ${receiver.stats.duplicates} duplicate deliveries; signatures ${receiver.signaturesChecked ? `checked on ${receiver.stats.sigChecked}, ${receiver.stats.sigFailed} failed` : 'not checked (standardwebhooks not installed)'}`);
  out.push(`- duration ${f((finishedAt - startedAt) / 1000)} s in all`);
  out.push('', '## Machine', '', ...machineLines(info, labels.kamailio ? [labels.kamailio] : []));
  out.push('', '## How to read this', '', ...PRODUCT_HOW_TO_READ);
  if (problems.length) out.push('', '## Problems seen', '', ...problems.map((p) => `- ${p}`));
  out.push('');
  return out.join('\n');
}
