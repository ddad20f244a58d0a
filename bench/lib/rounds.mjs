// --repeat: a noisy, shared machine moves one step's CPU per call by tens of percent, so the ladder
// runs several times and each target is judged on its median round at each rate. The median is a
// real step (its whole row), not a mix of figures from different steps.

/** One result per (target, rate): the round whose CPU per call is the median (the lower one of an even count). */
export function medianRounds(results) {
  const groups = new Map();
  for (const r of results) {
    const key = `${r.target}\u0000${r.rate}`;
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  const out = [];
  for (const g of groups.values()) {
    const sorted = [...g].sort((a, b) => cpuOf(a) - cpuOf(b));
    out.push({ ...sorted[Math.floor((sorted.length - 1) / 2)], rounds: g.length });
  }
  return out;
}

const cpuOf = (r) => (Number.isFinite(r.cpuUsPerCall) ? r.cpuUsPerCall : Number.POSITIVE_INFINITY);

/**
 * Markdown: every round's CPU per call per target, and each ringproof target's ratio to `ref`
 * (kamailio, else reference) in that round, so the spread behind the medians is visible.
 */
export function roundsSection(results, rates) {
  const rounds = [...new Set(results.map((r) => r.round))].sort((a, b) => a - b);
  if (rounds.length < 2) return '';
  const targets = [...new Set(results.map((r) => r.target))];
  const ref = targets.includes('kamailio') ? 'kamailio' : targets.includes('reference') ? 'reference' : undefined;
  const ratioOf = targets.filter((t) => t.startsWith('ringproof') && ref !== undefined);
  const abusePair = targets.includes('ringproof-abuse-on') && targets.includes('ringproof-abuse-off');
  const head = ['calls/s', 'round', ...targets.map((t) => `${t} µs/call`), ...ratioOf.map((t) => `${t} / ${ref}`), ...(abusePair ? ['protections on / off'] : [])];
  const rows = [];
  for (const rate of rates) {
    for (const round of rounds) {
      const at = (t) => results.find((r) => r.target === t && r.rate === rate && r.round === round);
      const cpu = targets.map((t) => fmt(at(t)?.cpuUsPerCall, 1));
      const ratios = ratioOf.map((t) => fmt((at(t)?.cpuUsPerCall ?? NaN) / (at(ref)?.cpuUsPerCall ?? NaN), 2));
      const pair = abusePair ? [fmt((at('ringproof-abuse-on')?.cpuUsPerCall ?? NaN) / (at('ringproof-abuse-off')?.cpuUsPerCall ?? NaN), 3)] : [];
      rows.push(`| ${rate} | ${round} | ${[...cpu, ...ratios, ...pair].join(' | ')} |`);
    }
  }
  return ['', `## Every round (${rounds.length} rounds; the tables and verdicts above use each target's median round)`, '',
    `| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows, ''].join('\n');
}

const fmt = (x, d) => (Number.isFinite(x) ? x.toFixed(d) : '–');

/** The CPU-per-call ratio `name` / `ref` of each round in which both ran at `rate` (back to back). */
export function pairedRatios(results, rate, name, ref) {
  const out = [];
  for (const a of results) {
    if (a.target !== name || a.rate !== rate) continue;
    const b = results.find((r) => r.target === ref && r.rate === rate && r.round === a.round);
    const x = b ? a.cpuUsPerCall / b.cpuUsPerCall : NaN;
    if (Number.isFinite(x)) out.push(x);
  }
  return out;
}

/** The median of numbers (the mean of the middle two for an even count); NaN for none. */
export function median(xs) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}
