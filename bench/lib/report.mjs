import { commandLine, machineLines, table } from './report-common.mjs';
import { cpuRatio } from './verdicts.mjs';

const f = (v, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : v === Infinity ? '>1000' : '–');
const ms = (seconds) => (Number.isFinite(seconds) ? (seconds * 1000).toFixed(2) : seconds === Infinity ? '>1000' : '–');

/** "ringproof 30.1 + drachtio-server 45.2" for targets whose calls cost several processes. */
function partsText(r, key, digits) {
  return r.parts.map((p) => `${p.name.replace(/^ringproof-drachtio$/, 'ringproof')} ${f(p[key], digits)}`).join(' + ');
}

function targetTable(results, name) {
  const rows = results.filter((r) => r.target === name);
  const rp = name.startsWith('ringproof');
  const multi = rows.some((r) => r.parts && r.parts.length > 1);
  const withKam = rp && results.some((r) => r.target === 'kamailio');
  const head = [
    'rate target', 'achieved cps', 'calls ok', 'failed', 'SIPp rtd p50/p90/p99 ms',
    ...(rp ? ['daemon p50/p99 ms'] : []),
    'CPU µs/call (net of idle)', ...(multi ? ['CPU µs/call per process'] : []), ...(rp ? ['ratio vs ref'] : []), ...(withKam ? ['ratio vs Kamailio'] : []), 'CPU % core',
    ...(multi ? ['CPU % core per process'] : []), 'RSS MB (peak)', ...(multi ? ['RSS MB per process'] : []),
    ...(rp ? ['timer-G retrans', 'INVITE retrans in', 'drops'] : []),
    'SIPp retrans', 'UDP rcvbuf drops (box)', 'SIPp CPU %', 'other load (cores)',
  ];
  const body = rows.map((r) => {
    const s = r.sipp;
    const d = r.daemon;
    return [
      String(r.rate),
      f(s.achievedCps),
      String(s.successful),
      `${s.failed}${r.alive ? '' : ' (target died)'}${s.killed ? ' (SIPp killed)' : ''}`,
      `${f(s.rtt.p50)}/${f(s.rtt.p90)}/${f(s.rtt.p99)}`,
      ...(rp ? [d ? `${ms(d.p50)}/${ms(d.p99)}` : '–'] : []),
      `${f(r.cpuUsPerCall, 1)} (${f(r.netCpuUsPerCall, 1)})`,
      ...(multi ? [partsText(r, 'usPerCall', 1)] : []),
      ...(rp ? [f(cpuRatio(results, r.rate, name), 2)] : []),
      ...(withKam ? [f(cpuRatio(results, r.rate, name, 'kamailio'), 2)] : []),
      f(r.cpuPctLoad),
      ...(multi ? [partsText(r, 'pctLoad', 0)] : []),
      `${f(r.rssMb)} (${f(r.hwmMb)})`,
      ...(multi ? [partsText(r, 'rssMb', 0)] : []),
      ...(rp ? [d ? String(d.timerG) : '–', d ? String(d.retransIn) : '–', d ? String(d.drops) : '–'] : []),
      f(s.retransmissions),
      f(r.udpRcvbufDrops),
      f(r.sippCpuPct),
      f(r.otherCores, 2),
    ];
  });
  return table(head, body);
}

function tickText(results) {
  const q = [...new Set(results.map((r) => r.sipp.rtt.quantumMs).filter((x) => Number.isFinite(x)))];
  return q.length ? `here ${q.join(' / ')} ms` : 'no non-zero value seen';
}

/** Native engine and drachtio engine at each rate, next to each other (only when both ran). */
function sideBySide(results) {
  const rates = [...new Set(results.filter((r) => r.target === 'ringproof-drachtio').map((r) => r.rate))];
  const rows = [];
  for (const rate of rates) {
    const n = results.find((r) => r.target === 'ringproof' && r.rate === rate);
    const d = results.find((r) => r.target === 'ringproof-drachtio' && r.rate === rate);
    const ref = results.find((r) => r.target === 'reference' && r.rate === rate);
    if (!n || !d) continue;
    const dp = (name) => d.parts.find((p) => p.name === name);
    rows.push([
      String(rate),
      `${f(n.sipp.achievedCps)} / ${f(d.sipp.achievedCps)}`,
      `${n.sipp.failed} / ${d.sipp.failed}`,
      `${f(n.sipp.rtt.p99)} / ${f(d.sipp.rtt.p99)}`,
      `${n.daemon ? ms(n.daemon.p99) : '–'} / ${d.daemon ? ms(d.daemon.p99) : '–'}`,
      f(n.cpuUsPerCall, 1),
      f(dp('ringproof-drachtio')?.usPerCall, 1),
      f(dp('drachtio-server')?.usPerCall, 1),
      f(d.cpuUsPerCall, 1),
      f(d.cpuUsPerCall / n.cpuUsPerCall, 2),
      ref ? f(ref.cpuUsPerCall, 1) : '–',
    ]);
  }
  if (rows.length === 0) return '';
  return table(
    ['rate target', 'achieved cps native / drachtio', 'failed native / drachtio', 'SIPp rtd p99 ms native / drachtio', 'daemon p99 ms native / drachtio',
      'native CPU µs/call', 'drachtio: ringproof µs/call', 'drachtio: drachtio-server µs/call', 'drachtio: total µs/call', 'total drachtio / native', 'reference µs/call'],
    rows,
  );
}

/** The whole markdown report. */
export function renderReport({ info, opts, scenario, results, verdictList, idle, problems, startedAt, finishedAt, labels, kamailioNA, argv = [] }) {
  const out = [];
  out.push(`# ringproof bench — ${startedAt.toISOString()}`, '');
  out.push('SIPp drives each target on loopback at a ladder of call rates; every call is INVITE → 486 → ACK.', '');
  out.push(`Command: \`${commandLine(argv)}\``, '');
  out.push('## Targets', '');
  for (const v of verdictList) out.push(`- **${v.status}** — ${v.name}: ${v.detail}`);
  out.push('');
  const both = sideBySide(results);
  if (both) out.push('## native vs drachtio engine', '', both, '');
  for (const name of ['ringproof', 'ringproof-drachtio', 'ringproof-abuse-off', 'ringproof-abuse-on', 'reference', 'kamailio']) {
    if (!results.some((r) => r.target === name)) continue;
    out.push(`## ${labels[name] ?? name}`, '', targetTable(results, name), '');
  }
  out.push('## Run', '');
  out.push(`- rates ${opts.rates.join(', ')} calls/s, ${opts.duration} s each, transport ${opts.transport}, engine ${opts.engine}, role ${opts.role ?? 'edge'}, targets ${opts.targets.join(', ')}${(opts.repeat ?? 1) > 1 ? `; ${opts.repeat} rounds of the whole ladder, each target's median round in the tables and verdicts` : ''}`);
  out.push(`- scenario \`${scenario.label}\``);
  if (kamailioNA) out.push(`- Kamailio: ${kamailioNA}`);
  if (opts.engines?.includes('drachtio')) {
    const pid = results.find((r) => r.target === 'ringproof-drachtio')?.parts.find((p) => p.name === 'drachtio-server')?.pid;
    out.push(`- drachtio-server: admin ${opts.drachtio.host}:${opts.drachtio.port}, SIP ${opts.drachtioSip.host}:${opts.drachtioSip.port}, pid ${pid ?? 'not found (its CPU is not counted)'}; ringproof runs role edge, event sink log, engine drachtio`);
  }
  out.push(`- duration ${((finishedAt - startedAt) / 1000).toFixed(0)} s in all`);
  if (idle.length) out.push(`- idle CPU before the ladder: ${idle.map((i) => `${i.target} ${f(i.usPerS)} µs/s`).join(', ')}`);
  out.push('');
  out.push('## Machine', '');
  out.push(...machineLines(info));
  out.push('');
  out.push('## How to read this', '');
  out.push(
    '- **Noisy, shared machine.** SIPp, the target and whatever else runs on the box share its cores; "other load" is the busy CPU time of everything else during the step, in cores. Compare ringproof and the reference row by row (they ran back to back at each rate), not across runs.',
    '- **achieved cps** = SIPp successful calls / SIPp elapsed time. **failed** = SIPp failed calls plus calls it never finished.',
    '- **SIPp rtd** = INVITE sent → final response received, as SIPp measures it, with SIPp\'s clock: a coarse kernel clock, so values are whole ticks (' + tickText(results) + '); a fast reply that straddles a tick reads as one tick, so a p99 of one tick says little, and the daemon-side figures are the precise ones. **daemon p50/p99** = ringproof\'s own INVITE → final histogram (`ringproof_sip_invite_to_final_seconds`), bucket deltas over the step, interpolated.',
    '- **CPU µs/call** = the target\'s utime+stime (`/proc/PID/stat`) over the step / successful calls. For ringproof the window runs until its transactions have expired (UDP timer I = T4 after the ACK) or the settle limit, so that work is counted too. In brackets: the same less the target\'s idle CPU (measured before the ladder) over the same window; the ratio uses the gross figure. **CPU % core** = the target\'s CPU while SIPp was sending, in % of one core: near 100 % means the single Node.js thread is saturated.',
    '- **timer-G retrans** = ringproof\'s 486 retransmissions (`ringproof_sip_retransmissions_total{kind="response_out"}`): the ACK came late or was lost. **INVITE retrans in** = duplicate INVITEs absorbed (SIPp retransmitted after 500 ms without an answer).',
    '- **SIPp retrans** = INVITEs SIPp sent again after 500 ms without a final response. **UDP rcvbuf drops (box)** = datagrams the kernel dropped on a full socket receive buffer during the step (`RcvbufErrors` in /proc/net/snmp, machine-wide: SIPp\'s socket, the target\'s, or anyone else\'s). Together they show stalls that the daemon\'s own histogram cannot see, since it starts timing when JavaScript reads the datagram.',
    '- The reference is `bench/reference-responder.mjs`: stateless, no transactions, no metrics — a floor, not a competitor.',
    '- **Kamailio** (when installed) runs `bench/kamailio-reject.cfg`: `sl_send_reply` 486 with the same Reason header, stateless, TLSF allocator, 4 UDP children; its CPU is that of all its processes. It is the yardstick of issue #8 (a mature C SIP server doing the cheapest reject); **ratio vs Kamailio** = ringproof CPU µs/call / Kamailio\'s at the same rate, same run.',
  );
  if (results.some((r) => r.target === 'ringproof-drachtio')) {
    out.push(
      '- **drachtio engine**: SIPp calls drachtio-server, which answers 100 Trying, hands the INVITE to ringproof over its admin TCP link, sends ringproof\'s 486 and absorbs the ACK. A call therefore costs CPU in both processes: **CPU µs/call** and **CPU % core** are the sum of ringproof\'s and drachtio-server\'s (each shown per process; drachtio-server is multi-threaded, so the sum can exceed 100 %). The CPU window waits at least 5.5 s after the load (drachtio-server\'s timer I), so its transaction expiry is counted. **daemon p50/p99** is ringproof\'s own histogram (from the INVITE reaching ringproof over the admin link to its reply being written back), so it leaves out drachtio-server\'s part; SIPp\'s rtd includes it. The scenario is the shared one with an optional 100 Trying inserted (and the ACK\'s `[branch-N]` moved by one).',
    );
  }
  if (problems.length) {
    out.push('', '## Problems seen', '');
    for (const p of problems) out.push(`- ${p}`);
  }
  out.push('');
  return out.join('\n');
}
