import { histogramQuantile } from './percentile.mjs';

/** Parses Prometheus text exposition into [{name, labels, value}] (comments skipped). */
export function parsePrometheus(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    if (m[2]) for (const l of m[2].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    const v = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    out.push({ name: m[1], labels, value: v });
  }
  return out;
}

/** GET /metrics of a ringproof daemon; undefined if it does not answer (the step is then reported without it). */
export async function scrape(httpPort, timeoutMs = 3000) {
  try {
    const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined;
    return parsePrometheus(await res.text());
  } catch {
    return undefined;
  }
}

/** Sum of every sample of `name` whose labels include `match`. */
export function sum(samples, name, match = {}) {
  if (!samples) return NaN;
  let s = 0;
  for (const x of samples) {
    if (x.name !== name) continue;
    if (Object.entries(match).every(([k, v]) => x.labels[k] === v)) s += x.value;
  }
  return s;
}

/** Cumulative buckets of a histogram (summed over its other labels), as [{le, count}]. */
export function buckets(samples, name, match = {}) {
  const byLe = new Map();
  if (!samples) return [];
  for (const x of samples) {
    if (x.name !== `${name}_bucket`) continue;
    if (!Object.entries(match).every(([k, v]) => x.labels[k] === v)) continue;
    const le = x.labels.le === '+Inf' ? Infinity : Number(x.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + x.value);
  }
  return [...byLe.entries()].map(([le, count]) => ({ le, count }));
}

/** What changed between two scrapes of a ringproof daemon over one bench step. */
export function stepDelta(before, after, transport) {
  const d = (name, match) => sum(after, name, match) - sum(before, name, match);
  const h = 'ringproof_sip_invite_to_final_seconds';
  const b0 = new Map(buckets(before, h, { transport }).map((b) => [b.le, b.count]));
  const delta = buckets(after, h, { transport }).map((b) => ({ le: b.le, count: b.count - (b0.get(b.le) ?? 0) }));
  return {
    invites: d('ringproof_sip_requests_total', { method: 'INVITE' }),
    acks: d('ringproof_sip_requests_total', { method: 'ACK' }),
    callEvents: d('ringproof_call_events_total', {}),
    finalResponses: d('ringproof_sip_responses_total', {}),
    retransIn: d('ringproof_sip_retransmissions_total', { kind: 'request_in' }),
    timerG: d('ringproof_sip_retransmissions_total', { kind: 'response_out' }),
    drops: d('ringproof_sip_drops_total', {}),
    p50: histogramQuantile(delta, 0.5),
    p99: histogramQuantile(delta, 0.99),
    transactionsAfter: sum(after, 'ringproof_sip_transactions'),
    eventLoopLagP99: sum(after, 'nodejs_eventloop_lag_p99_seconds'),
  };
}

/** Quantiles of the change of a daemon histogram between two scrapes ({n, p50, p90, p99}, seconds). */
export function histogramDelta(before, after, name) {
  const b0 = new Map(buckets(before, name).map((b) => [b.le, b.count]));
  const delta = buckets(after, name).map((b) => ({ le: b.le, count: b.count - (b0.get(b.le) ?? 0) }));
  const inf = delta.find((b) => !Number.isFinite(b.le));
  return {
    n: inf ? inf.count : NaN,
    p50: histogramQuantile(delta, 0.5),
    p90: histogramQuantile(delta, 0.9),
    p99: histogramQuantile(delta, 0.99),
  };
}

/** Change of a counter between two scrapes, by the value of one label: {labelValue: delta}, zero deltas left out. */
export function countsDelta(before, after, name, label) {
  const out = {};
  for (const x of after ?? []) {
    if (x.name !== name) continue;
    const k = x.labels[label] ?? '';
    out[k] = (out[k] ?? 0) + x.value;
  }
  for (const x of before ?? []) {
    if (x.name !== name) continue;
    const k = x.labels[label] ?? '';
    out[k] = (out[k] ?? 0) - x.value;
  }
  for (const k of Object.keys(out)) if (out[k] === 0) delete out[k];
  return out;
}
