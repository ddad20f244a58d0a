const f = (v, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : '–');
const ms = (s) => (Number.isFinite(s) ? (s * 1000).toFixed(1) : s === Infinity ? '>10000' : '–');

function table(head, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

const statusText = (counts) => Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ') || '–';

/** The e2e markdown report. */
export function renderE2eReport({ info, opts, steps, verdictList, problems, startedAt, finishedAt, daemonInfo, receiver, idle }) {
  const out = [];
  out.push(`# ringproof e2e bench — ${startedAt.toISOString()}`, '');
  out.push('Per rate: one verification session per caller created through the API, then SIPp calls every session\'s DID from its number (INVITE → 486 → ACK), and a real HTTP receiver in the bench process collects the signed webhooks. Daemon role all, embedded redis-server (AOF, appendfsync always).', '');
  out.push('## Targets', '');
  for (const v of verdictList) out.push(`- **${v.status}** — ${v.name}: ${v.detail}`);
  out.push('', '## Verifications and latency', '');
  out.push(table(
    ['rate target', 'sessions (create/s)', 'achieved cps', 'SIPp failed', 'verified webhooks', 'lost (still lost at run end)', 'GET sample', 'INVITE→webhook p50/p90/p99/max ms (receiver)', 'daemon INVITE→webhook p50/p90/p99 ms', 'daemon INVITE→verified p50/p90/p99 ms', 'daemon INVITE→486 p50/p99 ms', 'wait s'],
    steps.map((s) => [
      String(s.rate),
      `${s.sessions}${s.sessions < s.planned ? ` of ${s.planned}` : ''} (${f(s.createPerS)})`,
      f(s.sipp.achievedCps),
      `${s.sipp.failed}${s.alive ? '' : ' (daemon died)'}`,
      String(s.verified),
      `${s.lost} (${s.lostAtEnd ?? '–'})`,
      statusText(s.statuses),
      `${f(s.latency.p50, 1)}/${f(s.latency.p90, 1)}/${f(s.latency.p99, 1)}/${f(s.latency.max, 1)}`,
      `${ms(s.daemonInviteToWebhook.p50)}/${ms(s.daemonInviteToWebhook.p90)}/${ms(s.daemonInviteToWebhook.p99)}`,
      `${ms(s.daemonInviteToVerified.p50)}/${ms(s.daemonInviteToVerified.p90)}/${ms(s.daemonInviteToVerified.p99)}`,
      `${ms(s.daemonInviteToFinal.p50)}/${ms(s.daemonInviteToFinal.p99)}`,
      f(s.waitS, 1),
    ]),
  ));
  out.push('', '## CPU and memory', '');
  out.push(table(
    ['rate target', 'daemon CPU µs/call (net of idle)', 'redis-server CPU µs/call (net of idle)', 'daemon + redis µs/call', 'daemon % core (load / window)', 'redis % core (load / window)', 'daemon RSS MB (peak)', 'redis RSS MB', 'create: daemon + redis µs/session', 'bench process % core', 'SIPp CPU %', 'other load (cores)', 'UDP rcvbuf drops (box)'],
    steps.map((s) => [
      String(s.rate),
      `${f(s.daemonCpuUsPerCall, 0)} (${f(s.netDaemonUs, 0)})`,
      `${f(s.redisCpuUsPerCall, 0)} (${f(s.netRedisUs, 0)})`,
      f(s.daemonCpuUsPerCall + s.redisCpuUsPerCall, 0),
      `${f(s.daemonPctLoad)} / ${f(s.daemonPctWindow)}`,
      `${f(s.redisPctLoad)} / ${f(s.redisPctWindow)}`,
      `${f(s.rssMb)} (${f(s.hwmMb)})`,
      f(s.redisRssMb),
      `${f(s.createDaemonUs, 0)} + ${f(s.createRedisUs, 0)}`,
      f(s.benchPctWindow),
      f(s.sippCpuPct),
      f(s.otherCores, 2),
      f(s.udpRcvbufDrops),
    ]),
  ));
  out.push('', '## Worker outcomes and deliveries (daemon counters, over each step)', '');
  out.push(table(
    ['rate target', 'call outcomes', 'webhook deliveries', 'receiver: signatures checked (failed)'],
    steps.map((s) => [String(s.rate), statusText(s.outcomes), statusText(s.deliveries), s.sigText ?? '–']),
  ));
  out.push('', '## Run', '');
  out.push(`- rates ${opts.rates.join(', ')} calls/s, ${opts.duration} s each, transport ${opts.transport}, ${opts.dids} DIDs, API create concurrency ${opts.concurrency}, wait limit ${opts.wait} s, GET sample ${opts.sample}`);
  out.push(`- daemon pid ${daemonInfo.pid}, embedded redis-server pid ${daemonInfo.redisPid ?? 'not found'}; scenario \`sipp-scenarios/uac-reject.xml\` with a generated injection file per rate`);
  out.push(`- receiver: ${receiver.stats.requests} requests, ${receiver.stats.verifiedEvents} verified + ${receiver.stats.expiredEvents} expired events, ${receiver.stats.duplicates} duplicate deliveries, ${receiver.stats.bad} unparsable; signatures ${receiver.signaturesChecked ? `checked on ${receiver.stats.sigChecked} (standardwebhooks library), ${receiver.stats.sigFailed} failed` : 'NOT checked (standardwebhooks is not installed)'}`);
  if (idle) out.push(`- idle CPU after the warm-up: daemon ${f(idle.daemonUsPerS)} µs/s, redis-server ${f(idle.redisUsPerS)} µs/s (subtracted over each step's window for the "net of idle" figures)`);
  out.push(`- duration ${((finishedAt - startedAt) / 1000).toFixed(0)} s in all`);
  out.push('', '## Machine', '');
  out.push(`- ${info.nproc} CPUs, ${info.model}, ${f(info.memGb)} GiB, ${info.kernel}`);
  out.push(`- node ${info.node}, ${info.sipp}, ringproof ${info.ringproof}`);
  out.push(`- load average at start ${info.loadAvg.map((x) => x.toFixed(2)).join(' / ')}`);
  out.push('', '## How to read this', '');
  out.push(
    '- **INVITE→webhook (receiver)** = when the receiver got the `verification.verified` request (before reading its body) − `verification.callReceivedAt` in that body, which is when the daemon read the INVITE off the socket (its `performance.timeOrigin + now()`; the receiver uses the same clock form). Exact per event, all events of the step. It leaves out the few µs the INVITE spends in the kernel before the daemon reads it, which SIPp\'s coarse clock could not resolve anyway.',
    '- **daemon INVITE→webhook / →verified** = ringproof\'s own histograms `ringproof_invite_to_webhook_seconds` (until the receiver\'s 2xx is back) and `ringproof_invite_to_verified_seconds` (session verified in Redis), bucket deltas over the step, interpolated like `histogram_quantile`, so only as fine as the buckets.',
    '- **lost** = sessions created for this step that had no verified webhook when the wait ended (all arrived, the wait limit, or 15 s without a new one); in brackets, how many still had none at the end of the run (after the later steps and up to 60 s more): the difference arrived late rather than never. **GET sample** = statuses of randomly chosen sessions read back through the API after the wait.',
    '- **CPU µs/call** = utime+stime (`/proc/PID/stat`) from the start of SIPp until the last webhook (or the wait limit), / SIPp\'s successful calls: edge, spool/queue, worker, Redis scripts and webhook delivery. **load / window** = % of one core while SIPp was sending / over the whole window. Creating the sessions is measured apart (create column). The bench process (receiver, API client) runs on the same cores; its share is shown.',
    '- **other load** = busy CPU of the machine while SIPp was sending, less the daemon, redis-server and SIPp, in cores: the bench process itself and other people\'s work. The machine is shared, so compare rows of the same run.',
  );
  if (problems.length) {
    out.push('', '## Problems seen', '');
    for (const p of problems) out.push(`- ${p}`);
  }
  out.push('');
  return out.join('\n');
}
