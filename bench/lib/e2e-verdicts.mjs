/** The e2e targets of the issue, judged on this machine. */
export const LATENCY_RATE = 1000;
export const MAX_P99_WEBHOOK_MS = 50;
export const LOSS_RATE = 2000;
/** As in the SIP bench: "at N calls/s" means SIPp actually got that rate through. */
export const MIN_ACHIEVED_SHARE = 0.95;

/** [{name, status: 'PASS'|'MISS'|'N/A', detail}] from the e2e step results. */
export function e2eVerdicts(steps) {
  const out = [];
  const achieved = (s) => `achieved ${s.sipp.achievedCps.toFixed(0)} calls/s`;
  const rateOk = (s) => s.sipp.achievedCps >= s.rate * MIN_ACHIEVED_SHARE;

  const n1 = `p99 INVITE→webhook under ${MAX_P99_WEBHOOK_MS} ms at ${LATENCY_RATE} calls/s (at the receiver)`;
  const a = steps.find((s) => s.rate === LATENCY_RATE);
  if (!a) out.push({ name: n1, status: 'N/A', detail: `not run at ${LATENCY_RATE} calls/s (add it to --rates)` });
  else {
    const p99 = a.latency.p99;
    // A lost verification has no latency at all: it cannot be left out of a latency target.
    const ok = Number.isFinite(p99) && p99 < MAX_P99_WEBHOOK_MS && a.lost === 0 && rateOk(a);
    out.push({
      name: n1,
      status: ok ? 'PASS' : 'MISS',
      detail: `p99 ${p99.toFixed(1)} ms over ${a.latency.n} webhooks (p50 ${a.latency.p50.toFixed(1)}, max ${a.latency.max.toFixed(1)}), ${a.lost} lost, ${achieved(a)}`,
    });
  }

  const n2 = `zero lost verifications at ${LOSS_RATE} calls/s`;
  const b = steps.find((s) => s.rate === LOSS_RATE);
  if (!b) out.push({ name: n2, status: 'N/A', detail: `not run at ${LOSS_RATE} calls/s (add it to --rates)` });
  else {
    const ok = b.lost === 0 && b.sessions === b.planned && rateOk(b) && b.alive;
    out.push({
      name: n2,
      status: ok ? 'PASS' : 'MISS',
      detail: `${b.verified}/${b.sessions} sessions got their verified webhook (${b.lost} lost${b.sessions < b.planned ? `, ${b.planned - b.sessions} sessions not created` : ''}), SIPp ${b.sipp.failed} failed, ${achieved(b)}`,
    });
  }
  return out;
}
