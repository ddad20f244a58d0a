// The acceptance targets of issues #8 (the product path at carrier rates) and #15 (bounded memory under
// any flood), judged from whatever the run measured. Every report lists all of them: a target this mode
// does not measure is N/A with the command that does.

export const PRODUCT_RATE = 8000;
export const PRODUCT_HIGH_RATE = 16000;
export const SUSTAIN_S = 60;
export const MAX_RATIO_ALL = 4;
export const MAX_RATIO_EDGE = 1.5;
export const LEGIT_FLOOD_RATE = 4000;
export const LEGIT_RATE = 20;
export const MAX_LEGIT_P99_MS = 100;
export const NO_FLOOD_RATE = 1000;
export const MAX_NO_FLOOD_P99_MS = 50;
export const SOAK_S = 600;
export const SOAK_RATE = 4000;
export const MAX_RSS_DRIFT = 0.1;
export const FLOOD_CALLS = 1_000_000;
export const MAX_REDIS_GROWTH_BYTES = 32 * 2 ** 20;
export const AFTER_S = 60;
const MIN_ACHIEVED_SHARE = 0.95;

const x = (v) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '–');
const rateText = (r) => r.toLocaleString('en');
const cmd = (args) => `\`npm run bench -- ${args}\``;

/** The Kamailio row at `rate`, or why there is none. */
function kamailioAt(refs, rate) {
  return refs?.find((r) => r.target === 'kamailio' && r.rate === rate);
}

/**
 * [{name, status: 'PASS'|'MISS'|'N/A', detail}] for every target of #8 and #15. `m` holds what the run
 * measured: product {steps, refs, duration, legitRate, kamailioNA}, edge {results, kamailioNA}, e2e
 * {steps}, floodMemory {result}, soak {result}.
 */
export function issueVerdicts(m) {
  const out = [];
  const v = (issue, name, status, detail) => out.push({ name: `#${issue} ${name}`, status, detail });
  // Role all as users run it by default; the worker-thread layout when only that one ran.
  const all = (rate) => m.product?.steps.find((s) => s.target === 'ringproof-all' && s.rate === rate)
    ?? m.product?.steps.find((s) => s.target === 'ringproof-thread' && s.rate === rate);
  const productHint = (rates) => `not measured by this run: ${cmd(`--mode product --rates ${rates} --duration ${SUSTAIN_S}`)}`;

  // 1. 8,000 calls/s sustained for 60 s.
  {
    const name = `role all, UDP, unsolicited: ${rateText(PRODUCT_RATE)} calls/s sustained for ${SUSTAIN_S} s (backlog back to zero, not growing)`;
    const s = all(PRODUCT_RATE);
    if (!s) v(8, name, 'N/A', productHint(PRODUCT_RATE));
    else if (!s.sustained) v(8, name, 'MISS', `${s.what} (${m.product.duration} s step)`);
    else if (m.product.duration < SUSTAIN_S) v(8, name, 'N/A', `kept up over a ${m.product.duration} s step; the target needs --duration ${SUSTAIN_S}`);
    else v(8, name, 'PASS', `kept up for ${m.product.duration} s: backlog ${s.backlogEnd.total} at the end of the load, drained ${s.drainedAfterS.toFixed(0)} s after`);
  }
  // 2-3. No failed SIP call at 8,000 and 16,000 calls/s.
  for (const rate of [PRODUCT_RATE, PRODUCT_HIGH_RATE]) {
    const name = `role all: 0 failed SIP calls at ${rateText(rate)} calls/s`;
    const s = all(rate);
    if (!s) v(8, name, 'N/A', productHint(rate));
    else {
      const failed = s.sipp.failed + s.legit.callsFailed;
      const ok = s.alive && failed === 0 && s.sipp.achievedCps >= rate * MIN_ACHIEVED_SHARE;
      v(8, name, ok ? 'PASS' : 'MISS', `${failed} failed (${s.sipp.failed} of ${s.sipp.calls} flood calls, ${s.legit.callsFailed} legitimate), achieved ${s.sipp.achievedCps.toFixed(0)} calls/s${s.alive ? '' : ', a process died'}`);
    }
  }
  // 4. CPU per call of the whole daemon within 4x Kamailio's, same run.
  {
    const name = `role all: CPU per call of the whole daemon (node + redis-server) ≤ ${MAX_RATIO_ALL}× Kamailio's stateless reject, same run, at ${rateText(PRODUCT_RATE)} (and ${rateText(PRODUCT_HIGH_RATE)} when run) calls/s`;
    const steps = [PRODUCT_RATE, PRODUCT_HIGH_RATE].map(all).filter(Boolean);
    if (m.product?.kamailioNA) v(8, name, 'N/A', m.product.kamailioNA);
    else if (steps.length === 0) v(8, name, 'N/A', productHint(PRODUCT_RATE));
    else {
      const rows = steps.map((s) => ({ s, k: kamailioAt(m.product.refs, s.rate) }));
      if (rows.some((r) => !r.k)) v(8, name, 'N/A', 'Kamailio was not measured at the same rate');
      else {
        const parts = rows.map(({ s, k }) => ({ s, ratio: s.cpuUsPerCall / k.cpuUsPerCall, deferred: !Number.isFinite(s.drainedAfterS), k }));
        const detail = parts.map((p) => `${rateText(p.s.rate)}/s: ${p.s.cpuUsPerCall.toFixed(1)} vs ${p.k.cpuUsPerCall.toFixed(1)} µs/call = ${p.deferred ? '≥ ' : ''}${x(p.ratio)}${p.deferred ? ' (work deferred past the drain limit: a lower bound)' : ''}`).join('; ');
        const miss = parts.some((p) => !(p.ratio <= MAX_RATIO_ALL));
        v(8, name, miss ? 'MISS' : parts.some((p) => p.deferred) ? 'N/A' : 'PASS', detail);
      }
    }
  }
  // 5. Legitimate verifications through a 4,000 calls/s flood.
  {
    const name = `${LEGIT_RATE} legitimate verifications/s through a ${rateText(LEGIT_FLOOD_RATE)} calls/s unsolicited flood: 100 % verified, p99 INVITE→webhook < ${MAX_LEGIT_P99_MS} ms`;
    const s = all(LEGIT_FLOOD_RATE);
    if (!s) v(8, name, 'N/A', productHint(LEGIT_FLOOD_RATE));
    else if (!(m.product.legitRate > 0)) v(8, name, 'N/A', 'no legitimate stream in this run (--legit 0)');
    else {
      const l = s.legit;
      const ok = l.started > 0 && l.verified === l.started && l.latency.p99 < MAX_LEGIT_P99_MS;
      v(8, name, ok ? 'PASS' : 'MISS', `${l.verified}/${l.started} verified (${l.started - l.created} not created, ${l.callsFailed} calls unanswered, ${l.lost} without webhook), p99 ${Number.isFinite(l.latency.p99) ? `${l.latency.p99.toFixed(1)} ms` : '∞ (over 1 % lost)'} (p50 ${l.latency.p50.toFixed(1)} ms) at ${m.product.legitRate}/s`);
    }
  }
  // 6. 1,000 calls/s of verifications, no flood.
  {
    const name = `${rateText(NO_FLOOD_RATE)} calls/s with no flood: p99 INVITE→webhook < ${MAX_NO_FLOOD_P99_MS} ms`;
    const s = m.e2e?.steps.find((e) => e.rate === NO_FLOOD_RATE);
    if (!s) v(8, name, 'N/A', `not measured by this run: ${cmd(`--mode e2e --rates ${NO_FLOOD_RATE}`)}`);
    else {
      const ok = s.lost === 0 && s.latency.p99 < MAX_NO_FLOOD_P99_MS;
      v(8, name, ok ? 'PASS' : 'MISS', `p99 ${s.latency.p99.toFixed(1)} ms over ${s.latency.n} webhooks, ${s.lost} lost`);
    }
  }
  // 7. The edge alone within 1.5x Kamailio.
  {
    const name = `role edge: CPU per call ≤ ${MAX_RATIO_EDGE}× Kamailio's at ${rateText(PRODUCT_RATE)} and ${rateText(PRODUCT_HIGH_RATE)} calls/s, same run`;
    const e = m.edge;
    if (!e) v(8, name, 'N/A', `not measured by this run: ${cmd(`--rates ${PRODUCT_RATE},${PRODUCT_HIGH_RATE}`)} (sip mode, role edge)`);
    else if (e.kamailioNA) v(8, name, 'N/A', e.kamailioNA);
    else {
      const rows = [PRODUCT_RATE, PRODUCT_HIGH_RATE].map((rate) => ({
        rate,
        rp: e.results.find((r) => r.target === 'ringproof' && r.rate === rate),
        k: e.results.find((r) => r.target === 'kamailio' && r.rate === rate),
      })).filter((r) => r.rp && r.k);
      const detail = rows.map((r) => `${rateText(r.rate)}/s: ${r.rp.cpuUsPerCall.toFixed(1)} vs ${r.k.cpuUsPerCall.toFixed(1)} µs/call = ${x(r.rp.cpuUsPerCall / r.k.cpuUsPerCall)}`).join('; ');
      if (rows.some((r) => !(r.rp.cpuUsPerCall / r.k.cpuUsPerCall <= MAX_RATIO_EDGE))) v(8, name, 'MISS', detail);
      else if (rows.length < 2) v(8, name, 'N/A', `${detail || 'neither rate run with Kamailio'}${rows.length ? `; add ${rateText(rows[0].rate === PRODUCT_RATE ? PRODUCT_HIGH_RATE : PRODUCT_RATE)} to --rates` : ''}`);
      else v(8, name, 'PASS', detail);
    }
  }
  v(8, 'worker and Redis SIGKILLed mid-flood: every legitimate session verified once, one webhook each', 'N/A', 'checked by the e2e tests in CI (`npm test`), not by the bench');
  // 9. RSS flat over a 10-minute run.
  {
    const name = `RSS of the daemon and of redis-server flat (± ${MAX_RSS_DRIFT * 100} %) over a ${SOAK_S / 60}-minute ${rateText(SOAK_RATE)} calls/s run`;
    const r = m.soak?.result;
    if (!r) v(8, name, 'N/A', `not measured by this run: ${cmd(`--mode soak --soak ${SOAK_S} --rates ${SOAK_RATE}`)}`);
    else {
      const drifts = r.drift.map((d) => `${d.name} ${f1(d.firstMb)} → ${f1(d.lastMb)} MB (${d.change >= 0 ? '+' : ''}${(d.change * 100).toFixed(1)} %)`).join(', ');
      const flat = r.drift.length > 0 && r.drift.every((d) => Math.abs(d.change) <= MAX_RSS_DRIFT);
      if (r.seconds < SOAK_S || r.rate !== SOAK_RATE) v(8, name, 'N/A', `${drifts} over ${r.seconds} s at ${rateText(r.rate)} calls/s; the target needs --soak ${SOAK_S} --rates ${SOAK_RATE}`);
      else v(8, name, flat ? 'PASS' : 'MISS', `first vs last minute: ${drifts}`);
    }
  }
  // #15: Redis memory after a million unsolicited calls.
  {
    const name = `after ${rateText(FLOOD_CALLS)} unsolicited calls, Redis used_memory ${AFTER_S} s after the flood within ${MAX_REDIS_GROWTH_BYTES / 2 ** 20} MB of before it`;
    const r = m.floodMemory?.result;
    if (!r) v(15, name, 'N/A', `not measured by this run: ${cmd(`--mode flood-memory --calls ${FLOOD_CALLS}`)}`);
    else {
      const growth = r.after.usedBytes - r.before.usedBytes;
      const detail = `${rateText(r.calls)} calls: ${f1(r.before.usedBytes / 2 ** 20)} MB before, ${f1(r.peak.usedBytes / 2 ** 20)} MB at peak, ${f1(r.after.usedBytes / 2 ** 20)} MB ${r.afterS} s after (${growth >= 0 ? '+' : ''}${f1(growth / 2 ** 20)} MB, ${f1(growth / r.calls)} bytes/call)`;
      if (!Number.isFinite(growth)) v(15, name, 'N/A', 'Redis memory could not be read');
      else if (growth > MAX_REDIS_GROWTH_BYTES) v(15, name, 'MISS', detail);
      else if (r.calls < FLOOD_CALLS || r.afterS < AFTER_S) v(15, name, 'N/A', `${detail}; the target needs --calls ${FLOOD_CALLS} and --after ${AFTER_S}`);
      else v(15, name, 'PASS', detail);
    }
  }
  v(15, 'verified sessions keep their evidence through a flood; pending sessions verify during it; a small maxmemory degrades gracefully (503 + Retry-After, every INVITE answered)', 'N/A', 'checked by tests with real Redis and SIPp (`npm test`), not by the bench');
  return out;
}

function f1(v) {
  return Number.isFinite(v) ? v.toFixed(1) : '–';
}
