import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, posix, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ENV_VARS } from '../../src/config/env-overrides.js';
import { DropReasons } from '../../src/sip/contract/drop-reasons.js';
import { REPO_ROOT, startDaemonProcess, type DaemonProcess } from '../helpers/daemon-process.js';
import { parsePrometheusText, type MetricsSnapshot } from '../helpers/metrics-scrape.js';
import { promqlMetricNames } from '../helpers/promql-names.js';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';
import { parseResponse, UdpSipClient } from '../helpers/sip-client.js';
import { waitUntil } from '../helpers/verify-e2e.js';

// The monitoring kit in config/ (alert rules, Grafana dashboard, compose file) against a real
// daemon: every metric they name must be one it exports, promtool must accept the rules and the
// daemon's /metrics, and the compose file must only mount files that exist.

const CONFIG = join(REPO_ROOT, 'config');
const RULES = join(CONFIG, 'prometheus', 'ringproof-alerts.yml');
const RULE_TESTS = join(CONFIG, 'prometheus', 'ringproof-alerts.test.yml');
const PROMETHEUS_YML = join(CONFIG, 'prometheus', 'prometheus.yml');
const DASHBOARD = join(CONFIG, 'grafana', 'dashboards', 'ringproof.json');
const COMPOSE_FILES = ['docker-compose.yml', 'docker-compose.drachtio.yml'].map((f) => join(CONFIG, f));

/** Series Prometheus adds itself to every target: not the daemon's to export. */
const PROMETHEUS_SYNTHETIC = new Set(['up']);

/**
 * `promtool check metrics` lint findings on prom-client's default Node.js metrics (gauges named
 * *_total), which ringproof does not name. Anything else, and any finding on a ringproof_ metric,
 * fails the test.
 */
const ACCEPTED_DEFAULT_METRIC_LINTS = [
  /^nodejs_active_(?:handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/,
];

function promtool(args: string[], input?: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { input, encoding: 'utf8', timeout: 30_000 });
  if (r.error) {
    throw new Error(`promtool: ${r.error.message}. It ships in Debian's "prometheus" package (apt-get install prometheus); .ci/run installs it`);
  }
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

interface RuleFile {
  groups: Array<{ name: string; rules: Array<{ alert?: string; record?: string; expr: string }> }>;
}

/** Every PromQL expression of the dashboard: panel targets (rows included) and templating queries. */
function dashboardExpressions(): string[] {
  const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: Array<{ targets?: Array<{ expr?: string }>; panels?: Array<{ targets?: Array<{ expr?: string }> }> }>;
    templating: { list: Array<{ type: string; query?: string | { query?: string } }> };
  };
  const exprs: string[] = [];
  for (const p of dash.panels.flatMap((p) => [p, ...(p.panels ?? [])])) {
    for (const t of p.targets ?? []) if (t.expr) exprs.push(t.expr);
  }
  for (const v of dash.templating.list) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    if (q) exprs.push(q);
  }
  return exprs;
}

function ruleExpressions(): Array<{ name: string; expr: string }> {
  const rules = parseYaml(readFileSync(RULES, 'utf8')) as RuleFile;
  return rules.groups.flatMap((g) => g.rules.map((r) => ({ name: r.alert ?? r.record ?? '?', expr: r.expr })));
}

/** Names read by `exprs` that the scraped daemon does not export, with where they were used. */
function unknownNames(exprs: Array<{ where: string; expr: string }>, exported: MetricsSnapshot): string[] {
  const unknown: string[] = [];
  for (const { where, expr } of exprs) {
    for (const name of promqlMetricNames(expr)) {
      if (!PROMETHEUS_SYNTHETIC.has(name) && !exported.has(name)) unknown.push(`${name} (${where})`);
    }
  }
  return unknown;
}

function invite(port: number): string {
  return [
    'INVITE sip:+15550100001@127.0.0.1 SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-monitoring-1;rport`,
    'Max-Forwards: 70',
    'From: <sip:+14155550123@127.0.0.1>;tag=mon1',
    'To: <sip:+15550100001@127.0.0.1>',
    'Call-ID: monitoring-1@test',
    'CSeq: 1 INVITE',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('monitoring kit: alert rules and dashboard against a real daemon', () => {
  let redis: TestRedis;
  let daemon: DaemonProcess;
  let metricsText: string;
  let exported: MetricsSnapshot;

  beforeAll(async () => {
    redis = await startTestRedis();
    daemon = await startDaemonProcess({ env: { RINGPROOF_EVENT_SINK: 'queue', REDIS_URL: redis.url } });
    // One call, so the labelled SIP, call and histogram series are on the page too.
    const sip = await UdpSipClient.open();
    try {
      await sip.send(invite(sip.port), daemon.sipPort);
      const got = await sip.waitFor(1, 10_000);
      expect(parseResponse(got[0]?.data as Buffer)?.status).toBe(486);
    } finally {
      await sip.close();
    }
    metricsText = await waitUntil('the call in /metrics', async () => {
      const text = await (await fetch(`${daemon.baseUrl}/metrics`)).text();
      const m = parsePrometheusText(text);
      return m.get('ringproof_call_outcomes_total') >= 1 && m.get('ringproof_sip_invite_to_final_seconds_count') >= 1 ? text : undefined;
    }, 15_000);
    exported = parsePrometheusText(metricsText);
  });

  afterAll(async () => {
    await daemon?.stop();
    if (redis) await stopAndClean(redis);
  });

  it('promtool check metrics accepts the daemon\'s /metrics (only known lints on prom-client\'s defaults)', () => {
    const r = promtool(['check', 'metrics'], metricsText);
    const findings = r.output.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    const unexpected = findings.filter((l) => l.startsWith('ringproof_') || !ACCEPTED_DEFAULT_METRIC_LINTS.some((re) => re.test(l)));
    expect(unexpected).toEqual([]);
    // 0 = clean, 3 = lint findings only (all of them accepted above); anything else is a parse error.
    expect([0, 3]).toContain(r.status);
  });

  it('promtool check rules accepts the alert rules, and promtool test rules passes their unit tests', () => {
    const check = promtool(['check', 'rules', RULES]);
    expect(check.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(check.status).toBe(0);
    const test = promtool(['test', 'rules', RULE_TESTS]);
    expect(test.output).toContain('SUCCESS');
    expect(test.status).toBe(0);
    const config = promtool(['check', 'config', PROMETHEUS_YML]);
    expect(config.status, config.output).toBe(0);
  });

  it('every metric the alert rules name is exported by the daemon', () => {
    const rules = ruleExpressions();
    const names = new Set(rules.flatMap((r) => promqlMetricNames(r.expr)));
    // The extraction found the rules' metrics (a broken extractor would pass vacuously).
    expect(rules.length).toBeGreaterThanOrEqual(10);
    for (const n of ['up', 'ringproof_queue_depth', 'ringproof_spool_events', 'ringproof_webhook_dead_letters', 'ringproof_invite_to_webhook_seconds_bucket', 'ringproof_caller_trust_refusals_total']) {
      expect(names).toContain(n);
    }
    expect(unknownNames(rules.map((r) => ({ where: `rule ${r.name}`, expr: r.expr })), exported)).toEqual([]);
  });

  it('every metric the Grafana dashboard names is exported by the daemon', () => {
    const exprs = dashboardExpressions();
    const names = new Set(exprs.flatMap((e) => promqlMetricNames(e)));
    expect(exprs.length).toBeGreaterThanOrEqual(30);
    for (const n of ['ringproof_call_events_total', 'ringproof_call_outcomes_total', 'ringproof_sip_invite_to_final_seconds_bucket', 'ringproof_invite_to_webhook_seconds_bucket', 'ringproof_queue_depth', 'ringproof_spool_events', 'ringproof_webhook_deliveries_total', 'ringproof_webhook_dead_letters', 'ringproof_sip_drops_total', 'ringproof_caller_trust_refusals_total']) {
      expect(names).toContain(n);
    }
    expect(unknownNames(exprs.map((expr, i) => ({ where: `dashboard expression ${i}`, expr })), exported)).toEqual([]);
  });

  it('every drop reason the rules and the dashboard select is one the daemon counts (src/sip/contract/drop-reasons.ts)', () => {
    const exprs = [...ruleExpressions().map((r) => r.expr), ...dashboardExpressions()];
    const named = exprs.flatMap((e) => [...e.matchAll(/ringproof_sip_drops_total\{([^}]*)\}/g)])
      .flatMap((m) => [...(m[1] as string).matchAll(/\breason\s*=~?\s*"([^"]*)"/g)])
      .flatMap((m) => (m[1] as string).split('|'));
    expect(named.length).toBeGreaterThanOrEqual(5);
    const catalogue: readonly string[] = Object.values(DropReasons);
    expect(named.filter((r) => !catalogue.includes(r))).toEqual([]);
  });

  it('the check itself refuses a metric the daemon does not export', () => {
    expect(unknownNames([{ where: 'probe', expr: 'max(ringproof_not_a_metric{queue="calls"}) > 0' }], exported)).toEqual(['ringproof_not_a_metric (probe)']);
  });

  // The premise of RingproofRedisDown: the queue gauges vanish from /metrics while Redis is away.
  // Last, because it stops Redis.
  it('the queue depth series vanish from /metrics when Redis goes away', async () => {
    expect(exported.series('ringproof_queue_depth', { queue: 'calls' })).toHaveLength(1);
    await redis.stop(true);
    await waitUntil('ringproof_queue_depth to vanish', async () => {
      const m = await daemon.metrics();
      return m.series('ringproof_queue_depth').length === 0 ? true : undefined;
    }, 20_000);
  });
});

describe('compose files', () => {
  interface ComposeService {
    build?: { context: string } | string;
    environment?: Record<string, string> | string[];
    volumes?: string[];
    command?: string[] | string;
    network_mode?: string;
  }
  interface ComposeFile {
    services: Record<string, ComposeService>;
    volumes?: Record<string, unknown>;
  }
  const load = (file: string): ComposeFile => parseYaml(readFileSync(file, 'utf8')) as ComposeFile;
  const envOf = (s: ComposeService): Record<string, string> =>
    Array.isArray(s.environment)
      ? Object.fromEntries(s.environment.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))
      : { ...(s.environment ?? {}) };
  /** [source, target] of each mount: "./x:/y:ro" → ["./x", "/y"]. */
  const mountsOf = (s: ComposeService): Array<[string, string]> =>
    (s.volumes ?? []).map((v) => { const [src, dst] = v.split(':'); return [src as string, dst as string]; });
  // The variables the daemon reads: the table of simple ones, plus those env-overrides.ts parses itself.
  const envSource = readFileSync(join(REPO_ROOT, 'src', 'config', 'env-overrides.ts'), 'utf8');
  const ringproofEnv = new Set([
    ...ENV_VARS.map((v) => v.name),
    ...[...envSource.matchAll(/envValue\(env, '([A-Z_]+)'\)/g)].map((m) => m[1] as string),
  ]);

  for (const file of COMPOSE_FILES) {
    const name = file.slice(CONFIG.length + 1);
    it(`${name}: every file it mounts and builds from exists, every volume is declared, ringproof's variables are ones it reads`, () => {
      const compose = load(file);
      expect(Object.keys(compose.services)).toContain('ringproof');
      for (const [svcName, svc] of Object.entries(compose.services)) {
        for (const [src] of mountsOf(svc)) {
          if (src.startsWith('.') || isAbsolute(src)) {
            expect(existsSync(resolve(CONFIG, src)), `${svcName} mounts ${src}`).toBe(true);
          } else {
            expect(Object.keys(compose.volumes ?? {}), `${svcName}'s volume ${src}`).toContain(src);
          }
        }
        if (svc.build) {
          const context = typeof svc.build === 'string' ? svc.build : svc.build.context;
          expect(statSync(join(resolve(CONFIG, context), 'Dockerfile')).isFile(), `${svcName} builds ${context}`).toBe(true);
        }
      }
      const unknown = Object.keys(envOf(compose.services.ringproof as ComposeService)).filter((k) => !ringproofEnv.has(k));
      expect(unknown).toEqual([]);
    });
  }

  it('docker-compose.yml: Prometheus scrapes ringproof\'s listener and loads the rules, Grafana gets the data source and the dashboard', () => {
    const compose = load(join(CONFIG, 'docker-compose.yml'));
    const { ringproof, prometheus, grafana, redis } = compose.services as Record<string, ComposeService>;
    expect(ringproof && prometheus && grafana && redis).toBeTruthy();
    const rpEnv = envOf(ringproof as ComposeService);
    expect(rpEnv.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(JSON.stringify((redis as ComposeService).command)).toContain('"--port","6379"');

    // Prometheus: its config mounted where --config.file says, the scrape target is ringproof's HTTP listener.
    const promArgs = (prometheus as ComposeService).command as string[];
    const flag = (n: string) => promArgs.find((a) => a.startsWith(`--${n}=`))?.split('=')[1];
    const promMounts = new Map(mountsOf(prometheus as ComposeService).map(([s, d]) => [d, s]));
    expect(promMounts.get(flag('config.file') as string)).toBe('./prometheus/prometheus.yml');
    const promConfig = parseYaml(readFileSync(PROMETHEUS_YML, 'utf8')) as {
      rule_files: string[];
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
    };
    const job = promConfig.scrape_configs.find((j) => j.job_name === 'ringproof');
    expect(job?.static_configs.flatMap((s) => s.targets)).toEqual([rpEnv.RINGPROOF_HTTP_LISTEN]);
    for (const rf of promConfig.rule_files) {
      const inContainer = posix.resolve(posix.dirname(flag('config.file') as string), rf);
      expect(promMounts.get(inContainer), `rule file ${rf}`).toBe('./prometheus/ringproof-alerts.yml');
    }
    // The rules and the dashboard select job="ringproof": the job of this file.
    expect(readFileSync(RULES, 'utf8')).toContain('job="ringproof"');

    // Grafana: provisioning directories mounted, the provider's path is where the dashboards are,
    // the data source URL is Prometheus's listen address.
    const grafMounts = new Map(mountsOf(grafana as ComposeService).map(([s, d]) => [s, d]));
    expect(grafMounts.get('./grafana/provisioning/datasources')).toBe('/etc/grafana/provisioning/datasources');
    expect(grafMounts.get('./grafana/provisioning/dashboards')).toBe('/etc/grafana/provisioning/dashboards');
    const provider = parseYaml(readFileSync(join(CONFIG, 'grafana', 'provisioning', 'dashboards', 'ringproof.yml'), 'utf8')) as {
      providers: Array<{ options: { path: string } }>;
    };
    expect(grafMounts.get('./grafana/dashboards')).toBe(provider.providers[0]?.options.path);
    const datasources = parseYaml(readFileSync(join(CONFIG, 'grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8')) as {
      datasources: Array<{ type: string; url: string }>;
    };
    expect(datasources.datasources.find((d) => d.type === 'prometheus')?.url).toBe(`http://${flag('web.listen-address')}`);
  });
});
