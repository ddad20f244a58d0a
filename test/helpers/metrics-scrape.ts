/**
 * A small reader for the Prometheus text exposition format (what /metrics serves), for assertions in
 * e2e tests: `snapshot.get('ringproof_sip_responses_total', { code: '486' })` sums every series of that
 * name whose labels include the given ones.
 */

export type Labels = Record<string, string>;

export interface MetricSample {
  /** Sample name as exposed, e.g. "ringproof_sip_invite_to_final_seconds_count". */
  name: string;
  labels: Labels;
  value: number;
}

export interface MetricsSnapshot {
  readonly samples: readonly MetricSample[];
  /**
   * Sum of the values of every series named `name` whose labels include `labels` (all of them when
   * omitted); 0 when the family is exposed but no series matches (a labelled counter that has not
   * been incremented yet). Throws when nothing of that name is exposed at all, so a typo in a test
   * fails loudly instead of reading 0.
   */
  get(name: string, labels?: Labels): number;
  /** The matching series themselves. */
  series(name: string, labels?: Labels): MetricSample[];
  /** True when the family (HELP/TYPE lines) or a sample of that name is exposed. */
  has(name: string): boolean;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$/;
const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created'];

export function parsePrometheusText(text: string): MetricsSnapshot {
  const samples: MetricSample[] = [];
  const families = new Set<string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s+(?:HELP|TYPE)\s+(\S+)/.exec(line);
      if (m) families.add(m[1] as string);
      continue;
    }
    const m = SAMPLE_LINE.exec(line);
    if (!m) throw new Error(`unparseable metrics line: ${line}`);
    samples.push({ name: m[1] as string, labels: parseLabels(m[2] ?? ''), value: parseValue(m[3] as string) });
  }
  const exposed = (name: string): boolean => {
    if (families.has(name) || samples.some((s) => s.name === name)) return true;
    // Histogram/summary parts belong to the family named without the suffix.
    return SUFFIXES.some((suf) => name.endsWith(suf) && families.has(name.slice(0, -suf.length)));
  };
  const series = (name: string, labels: Labels = {}): MetricSample[] =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return {
    samples,
    has: exposed,
    series,
    get(name, labels) {
      if (!exposed(name)) throw new Error(`metric ${name} is not exposed`);
      return series(name, labels).reduce((sum, s) => sum + s.value, 0);
    },
  };
}

/** GET a /metrics URL and parse it. */
export async function scrapeMetrics(url: string, timeoutMs = 5000): Promise<MetricsSnapshot> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return parsePrometheusText(await res.text());
}

/** after.get(...) - before.get(...): what happened between two scrapes of a counter. */
export function metricDelta(before: MetricsSnapshot, after: MetricsSnapshot, name: string, labels?: Labels): number {
  return after.get(name, labels) - before.get(name, labels);
}

function parseValue(text: string): number {
  // prom-client writes "Nan" for a NaN gauge; the format's own spelling is "NaN". Accept any case.
  const lower = text.toLowerCase();
  if (lower === '+inf' || lower === 'inf') return Number.POSITIVE_INFINITY;
  if (lower === '-inf') return Number.NEGATIVE_INFINITY;
  if (lower === 'nan') return Number.NaN;
  const v = Number(text);
  if (Number.isNaN(v)) throw new Error(`bad metric value: ${text}`);
  return v;
}

/** `a="x",b="y\"z"` → {a: 'x', b: 'y"z'}; label values escape \\, \" and \n. */
function parseLabels(text: string): Labels {
  const labels: Labels = {};
  let i = 0;
  while (i < text.length) {
    while (text[i] === ',' || text[i] === ' ') i++;
    if (i >= text.length) break;
    const eq = text.indexOf('=', i);
    if (eq === -1 || text[eq + 1] !== '"') throw new Error(`bad label set: {${text}}`);
    const name = text.slice(i, eq).trim();
    let value = '';
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\' && j + 1 < text.length) {
        j++;
        value += text[j] === 'n' ? '\n' : text[j];
      } else value += text[j];
    }
    if (j >= text.length) throw new Error(`unterminated label value: {${text}}`);
    labels[name] = value;
    i = j + 1;
  }
  return labels;
}
