/** The issue's targets, judged from the ringproof and reference rows of one run. */
export const TARGET_RATE = 8000;
export const MAX_CPU_RATIO = 2;
export const MAX_P99_MS = 5;
/** "At 8,000 calls/s" means SIPp actually got that rate through, not just asked for it. */
export const MIN_ACHIEVED_SHARE = 0.95;

/** CPU per call of ringproof target `name` / that of reference target `ref` at `rate`; NaN when either is missing. */
export function cpuRatio(results, rate, name = 'ringproof', ref = 'reference') {
  const rp = results.find((r) => r.target === name && r.rate === rate);
  const refRow = results.find((r) => r.target === ref && r.rate === rate);
  if (!rp || !refRow) return NaN;
  return rp.cpuUsPerCall / refRow.cpuUsPerCall;
}

/**
 * [{name, status: 'PASS'|'MISS'|'N/A', detail}] for the ringproof target `target` ('ringproof' = the
 * native engine, 'ringproof-drachtio' = behind drachtio-server, judged on the CPU of both processes).
 */
export function verdicts(results, target = 'ringproof') {
  const rp = results.find((r) => r.target === target && r.rate === TARGET_RATE);
  const out = [];
  const tag = target === 'ringproof' ? '' : ` [${target}]`;
  const na = (name, why) => out.push({ name: name + tag, status: 'N/A', detail: why });
  const push = (v) => out.push({ ...v, name: v.name + tag });
  const noRp = `${target} was not run at ${TARGET_RATE} calls/s (add it to --rates / --targets)`;

  const n1 = `zero failed calls at ${TARGET_RATE} calls/s`;
  if (!rp) na(n1, noRp);
  else {
    const share = rp.sipp.achievedCps / TARGET_RATE;
    const ok = rp.alive && rp.sipp.failed === 0 && rp.sipp.successful === rp.sipp.calls && share >= MIN_ACHIEVED_SHARE;
    push({
      name: n1,
      status: ok ? 'PASS' : 'MISS',
      detail: `${rp.sipp.successful}/${rp.sipp.calls} calls ok, ${rp.sipp.failed} failed, achieved ${rp.sipp.achievedCps.toFixed(0)} calls/s (needs >= ${(MIN_ACHIEVED_SHARE * 100).toFixed(0)} % of target)`,
    });
  }

  const n2 = `CPU per rejected call within ${MAX_CPU_RATIO}x of the reference at ${TARGET_RATE} calls/s`;
  const ratio = cpuRatio(results, TARGET_RATE, target);
  if (!rp) na(n2, noRp);
  else if (!Number.isFinite(ratio)) na(n2, 'no reference measurement at the same rate');
  else {
    const ref = results.find((r) => r.target === 'reference' && r.rate === TARGET_RATE);
    push({
      name: n2,
      status: ratio <= MAX_CPU_RATIO ? 'PASS' : 'MISS',
      detail: `${target}${rp.parts && rp.parts.length > 1 ? ` (${rp.parts.map((p) => p.name).join(' + ')})` : ''} ${rp.cpuUsPerCall.toFixed(1)} µs/call vs reference ${ref.cpuUsPerCall.toFixed(1)} µs/call = ${ratio.toFixed(2)}x`,
    });
  }

  const n3 = `p99 INVITE→final under ${MAX_P99_MS} ms at ${TARGET_RATE} calls/s (SIPp rtd)`;
  if (!rp) na(n3, noRp);
  else if (!(rp.sipp.rtt.n > 0)) push({ name: n3, status: 'MISS', detail: 'SIPp measured no response time' });
  else {
    const p99 = rp.sipp.rtt.p99;
    const dp99 = rp.daemon ? ` (daemon-side p99 ${(rp.daemon.p99 * 1000).toFixed(2)} ms)` : '';
    push({
      name: n3,
      status: p99 < MAX_P99_MS ? 'PASS' : 'MISS',
      detail: `SIPp p99 ${p99} ms over ${rp.sipp.rtt.n} calls${Number.isFinite(rp.sipp.rtt.quantumMs) ? ` (SIPp clock tick ${rp.sipp.rtt.quantumMs} ms)` : ''}${dp99}`,
    });
  }
  return out;
}
