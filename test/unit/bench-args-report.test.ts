// The bench's own logic without any load: flag parsing, the issue verdicts and the product report,
// on hand-made measurements. The bench is plain .mjs (it runs from a bare checkout), so it is loaded
// by URL; the load runs themselves are `npm run bench`, not tests.
import { describe, expect, it } from 'vitest';

const bench = (file: string): Promise<any> => import(new URL(`../../bench/lib/${file}`, import.meta.url).href);

/** A product step as runProductStep returns it, with the fields the verdicts and the report read. */
function productStep(over: Record<string, unknown> = {}): Record<string, any> {
  const q = { n: 100, p50: 20, p99: 60, max: 70 };
  return {
    target: 'ringproof-all',
    rate: 8000,
    alive: true,
    sipp: { calls: 480_000, successful: 480_000, failed: 0, achievedCps: 7990, exitCode: 0, sippCpuS: 10, wallS: 60, errorSample: '' },
    legit: { started: 1200, created: 1200, createErrors: {}, createMs: q, callsFailed: 0, retransmits: 0, verified: 1200, lost: 0, latency: q, daemonLatency: q },
    parts: [{ name: 'ringproof', usPerCall: 50, rssMb: 120 }, { name: 'redis-server', usPerCall: 20, rssMb: 30 }],
    cpuUsPerCall: 70,
    netCpuUsPerCall: 68,
    loadUsPerCall: 65,
    cpuPctLoad: 56,
    drainLimitS: 120,
    drainedAfterS: 2,
    drainLeft: { backlog: 0, transactions: 0, legit: 0 },
    backlogEnd: { total: 10, depth: 10, spool: 0 },
    backlogAfter: { total: 0, depth: 0, spool: 0 },
    growthPerS: 0,
    maxBacklog: 40,
    redisBefore: { usedBytes: 2 ** 21 },
    redisAfter: { usedBytes: 2 ** 22 },
    sippCpuPct: 20,
    otherCores: 0.1,
    outcomes: { unsolicited: 480_000 },
    published: {},
    sipDrops: {},
    daemonInviteToFinal: { p50: 0.0001, p99: 0.001 },
    daemonInviteToWebhook: { p50: 0.02, p99: 0.05 },
    // What judgeSustained() adds to a real step (tested on its own below).
    sustained: true,
    what: 'kept up',
    ...over,
  };
}

const kamailioRow = (rate: number, us: number) => ({ target: 'kamailio', rate, cpuUsPerCall: us, netCpuUsPerCall: us, cpuPctLoad: 10, rssMb: 6, sippCpuPct: 20, otherCores: 0.1, sipp: { achievedCps: rate, failed: 0 } });

describe('bench entry point', () => {
  it('runs: `node bench/run.mjs --help` prints the usage and exits 0', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, [new URL('../../bench/run.mjs', import.meta.url).pathname, '--help'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('usage: npm run bench -- [options]');
    expect(r.stdout).toContain('--repeat <n>');
  });
});

describe('bench flags', () => {
  it('gives the product mode its own ladder and the legitimate stream', async () => {
    const { parseArgs, PRODUCT_RATES } = await bench('args.mjs');
    const o = parseArgs(['--mode', 'product', '--layout', 'all,split', '--drain', '30'], {});
    expect(o.rates).toEqual(PRODUCT_RATES);
    expect(o.rates).toEqual([2000, 4000, 8000, 16000]);
    expect(o.duration).toBe(20);
    expect(o.legit).toBe(20);
    expect(o.layouts).toEqual(['all', 'split']);
    expect(o.drain).toBe(30);
    expect(o.targets).toContain('kamailio');
    expect(parseArgs(['--mode', 'product', '--layout', 'thread,all'], {}).layouts).toEqual(['thread', 'all']);
  });

  it('runs flood-memory and soak at one rate, and --soak alone picks the soak mode', async () => {
    const { parseArgs } = await bench('args.mjs');
    const fm = parseArgs(['--mode=flood-memory', '--calls', '20000', '--after', '15'], {});
    expect(fm).toMatchObject({ mode: 'flood-memory', calls: 20000, after: 15, rates: [4000], legit: 0 });
    expect(parseArgs(['--soak', '30'], {})).toMatchObject({ mode: 'soak', soak: 30, rates: [4000] });
    expect(() => parseArgs(['--mode', 'soak', '--rates', '1000,2000'], {})).toThrow(/one rate/);
    expect(() => parseArgs(['--mode', 'product', '--soak', '30'], {})).toThrow(/--mode soak/);
    expect(parseArgs(['--soak', '600', '--soak-warm', '120'], {})).toMatchObject({ mode: 'soak', soakWarm: 120 });
    expect(parseArgs(['--soak', '600'], {}).soakWarm).toBe(0);
    expect(() => parseArgs(['--mode', 'product', '--soak-warm', '60'], {})).toThrow(/--soak-warm/);
  });

  it('refuses bad values with the flag named', async () => {
    const { parseArgs } = await bench('args.mjs');
    expect(() => parseArgs(['--layout', 'cluster'], {})).toThrow(/--layout/);
    expect(() => parseArgs(['--legit', '-1'], {})).toThrow(/--legit/);
    expect(() => parseArgs(['--redis-fsync', 'no'], {})).toThrow(/--redis-fsync/);
    expect(() => parseArgs(['--mode', 'product', '--engine', 'drachtio', '--drachtio', '127.0.0.1:9022:x'], {})).toThrow(/native engine only/);
    expect(() => parseArgs(['--bogus'], {})).toThrow(/unknown option/);
  });
});

describe('bench rounds (--repeat)', () => {
  it('parses --repeat for sip mode only, a whole number', async () => {
    const { parseArgs } = await bench('args.mjs');
    expect(parseArgs(['--repeat', '3'], {}).repeat).toBe(3);
    expect(parseArgs([], {}).repeat).toBe(1);
    expect(() => parseArgs(['--repeat', '2.5'], {})).toThrow(/--repeat/);
    expect(() => parseArgs(['--repeat', '0'], {})).toThrow(/--repeat/);
    expect(() => parseArgs(['--mode', 'product', '--repeat', '3'], {})).toThrow(/--repeat/);
  });

  it('judges each target on its median round, a whole step, and lists every round', async () => {
    const { medianRounds, roundsSection } = await bench('rounds.mjs');
    const row = (target: string, rate: number, round: number, cpuUsPerCall: number) => ({ target, rate, round, cpuUsPerCall, achieved: round });
    const all = [
      row('kamailio', 8000, 1, 40), row('ringproof', 8000, 1, 75),
      row('kamailio', 8000, 2, 36), row('ringproof', 8000, 2, 48),
      row('kamailio', 8000, 3, 38), row('ringproof', 8000, 3, 55),
      row('ringproof', 16000, 1, Number.NaN), row('ringproof', 16000, 2, 41),
    ];
    const med = medianRounds(all);
    expect(med).toHaveLength(3);
    expect(med.find((r: any) => r.target === 'ringproof' && r.rate === 8000)).toMatchObject({ cpuUsPerCall: 55, round: 3, achieved: 3, rounds: 3 });
    expect(med.find((r: any) => r.target === 'kamailio')).toMatchObject({ cpuUsPerCall: 38, round: 3 });
    // A step without a figure (the target died) sorts last, so it is the median only when nothing else is.
    expect(med.find((r: any) => r.rate === 16000)).toMatchObject({ cpuUsPerCall: 41, round: 2 });
    const md = roundsSection(all, [8000, 16000]);
    expect(md).toContain('## Every round (3 rounds');
    expect(md).toContain('| 8000 | 1 | 40.0 | 75.0 | 1.88 |');
    expect(md).toContain('| 16000 | 1 | – | – | – |');
    expect(roundsSection(all.filter((r) => r.round === 1), [8000])).toBe('');
  });

  it('pairs the protections on/off steps of each round, and takes the median of those ratios', async () => {
    const { pairedRatios, median, roundsSection } = await bench('rounds.mjs');
    const row = (target: string, round: number, cpuUsPerCall: number) => ({ target, rate: 8000, round, cpuUsPerCall });
    const all = [
      row('ringproof-abuse-off', 1, 60), row('ringproof-abuse-on', 1, 63),
      row('ringproof-abuse-off', 2, 80), row('ringproof-abuse-on', 2, 84),
      row('ringproof-abuse-off', 3, 50), row('ringproof-abuse-on', 3, 80),
      row('ringproof-abuse-on', 4, 70),
    ];
    const paired = pairedRatios(all, 8000, 'ringproof-abuse-on', 'ringproof-abuse-off');
    expect(paired).toEqual([1.05, 1.05, 1.6]);
    expect(median(paired)).toBe(1.05);
    expect(median([1, 2, 3, 4])).toBe(2.5);
    expect(Number.isNaN(median([]))).toBe(true);
    expect(roundsSection(all, [8000])).toContain('| 8000 | 3 | 50.0 | 80.0 | 1.600 |');
  });
});

describe('bench verdicts', () => {
  it('judges the role-all targets against Kamailio measured in the same run', async () => {
    const { issueVerdicts } = await bench('acceptance.mjs');
    const steps = [productStep(), productStep({ rate: 16000, cpuUsPerCall: 200, sipp: { ...productStep().sipp, calls: 960_000, successful: 959_000, failed: 1000, achievedCps: 15900 } })];
    const v = issueVerdicts({ product: { steps, refs: [kamailioRow(8000, 20), kamailioRow(16000, 20)], duration: 60, legitRate: 20 } });
    const byName = (text: string) => v.find((x: { name: string }) => x.name.includes(text));
    expect(byName('sustained for 60 s').status).toBe('PASS');
    expect(byName('0 failed SIP calls at 8,000').status).toBe('PASS');
    expect(byName('0 failed SIP calls at 16,000').status).toBe('MISS');
    // 200 / 20 = 10x at 16,000 calls/s: over the 4x target.
    expect(byName('≤ 4×').status).toBe('MISS');
    expect(byName('≤ 4×').detail).toContain('10.00×');
    expect(byName('legitimate verifications/s').status).toBe('N/A');
  });

  it('says "reference unavailable" when Kamailio is not installed, and judges flood memory', async () => {
    const { issueVerdicts } = await bench('acceptance.mjs');
    const na = issueVerdicts({ product: { steps: [productStep()], refs: [], duration: 20, legitRate: 20, kamailioNA: 'reference unavailable: `kamailio` is not installed' } });
    const ratio = na.find((x: { name: string }) => x.name.includes('≤ 4×'));
    expect(ratio).toMatchObject({ status: 'N/A' });
    expect(ratio.detail).toMatch(/reference unavailable/);
    const mem = (afterBytes: number, calls = 1_000_000) =>
      issueVerdicts({ floodMemory: { result: { calls, afterS: 60, before: { usedBytes: 2 ** 20 }, peak: { usedBytes: 2 ** 30 }, after: { usedBytes: afterBytes } } } })
        .find((x: { name: string }) => x.name.startsWith('#15 after'));
    expect(mem(20 * 2 ** 20).status).toBe('PASS');
    expect(mem(200 * 2 ** 20).status).toBe('MISS');
    expect(mem(20 * 2 ** 20, 10_000).status).toBe('N/A');
  });

  it('calls a step sustained only when the backlog ends small, does not grow and drains', async () => {
    const { judgeSustained } = await bench('product-step.mjs');
    expect(judgeSustained(productStep())).toEqual({ sustained: true, what: 'kept up' });
    const growing = judgeSustained(productStep({ backlogEnd: { total: 31_533 }, growthPerS: 900, drainedAfterS: NaN, drainLeft: { backlog: 20_000, transactions: 0, legit: 3 } }));
    expect(growing.sustained).toBe(false);
    expect(growing.what).toContain('backlog 31,533 at the end of the load');
    expect(growing.what).toContain('growing 900/s');
    expect(growing.what).toContain('backlog 20,000, 3 legitimate verifications without webhook');
  });
});

describe('bench reports', () => {
  it('renders the product report with the ratio to Kamailio and the exact command', async () => {
    const { renderProductReport } = await bench('product-report.mjs');
    const { issueVerdicts } = await bench('acceptance.mjs');
    const steps = [productStep()];
    const refs = [kamailioRow(8000, 20)];
    const md: string = renderProductReport({
      info: { nproc: 2, model: 'test cpu', memGb: 4, kernel: 'Linux', node: 'v24', sipp: 'SIPp v3.6', ringproof: '0.1.0', loadAvg: [0, 0, 0] },
      opts: { layouts: ['all'], rates: [8000], duration: 60, legit: 20, drain: 120, dids: 3, transport: 'udp', workers: 1, redisFsync: 'always' },
      argv: ['--mode', 'product', '--rates', '8000', '--duration', '60'],
      steps,
      refs,
      verdictList: issueVerdicts({ product: { steps, refs, duration: 60, legitRate: 20 } }),
      idle: [],
      problems: [],
      startedAt: new Date(0),
      finishedAt: new Date(90_000),
      labels: {},
      kamailioNA: undefined,
      receiver: { stats: { requests: 1, verifiedEvents: 1, expiredEvents: 0, duplicates: 0, sigChecked: 1, sigFailed: 0 }, signaturesChecked: true },
    });
    expect(md).toContain('Command: `npm run bench -- --mode product --rates 8000 --duration 60`');
    expect(md).toContain('| 8,000 | 20.0 | 70.0 (3.50×) | kept up |');
    expect(md).toContain('ringproof 50.0 + redis-server 20.0');
    expect(md).toContain('**PASS** — #8 role all: CPU per call');
  });

  it('gives each issue #10 target (protections off, on) its own step table, other load included', async () => {
    const { renderReport } = await bench('report.mjs');
    const row = (target: string, us: number) => ({
      target, rate: 8000, alive: true, cpuUsPerCall: us, netCpuUsPerCall: us - 2, cpuPctLoad: 90, rssMb: 100, hwmMb: 110, udpRcvbufDrops: 0, sippCpuPct: 30, otherCores: 0.42,
      parts: [{ name: target, usPerCall: us - 10, pctLoad: 80, rssMb: 90 }, { name: 'redis-server', usPerCall: 10, pctLoad: 10, rssMb: 10 }],
      sipp: { achievedCps: 7900, successful: 80_000, failed: 0, retransmissions: 0, rtt: { p50: 0, p90: 4, p99: 8, quantumMs: 4 } },
      daemon: { p50: 0.0001, p99: 0.0002, timerG: 0, retransIn: 0, drops: 0 },
    });
    const md: string = renderReport({
      info: { nproc: 2, model: 'test cpu', memGb: 4, kernel: 'Linux', node: 'v24', sipp: 'SIPp v3.6', ringproof: '0.1.0', loadAvg: [0, 0, 0] },
      opts: { rates: [8000], duration: 10, transport: 'udp', engine: 'native', targets: ['ringproof-abuse-off', 'ringproof-abuse-on'] },
      scenario: { label: 'uac-reject.xml' }, results: [row('ringproof-abuse-off', 100), row('ringproof-abuse-on', 104)], verdictList: [], idle: [], problems: [],
      startedAt: new Date(0), finishedAt: new Date(60_000), labels: { 'ringproof-abuse-off': 'protections off', 'ringproof-abuse-on': 'protections on' }, kamailioNA: 'not installed',
    });
    for (const label of ['protections off', 'protections on']) expect(md).toContain(`## ${label}`);
    expect(md).toContain('other load (cores)');
    expect(md).toContain('| 0.42 |');
    expect(md).toContain('ringproof-abuse-on 94.0 + redis-server 10.0');
  });

  it('quotes the command line and measures RSS drift between two windows', async () => {
    const { commandLine } = await bench('report-common.mjs');
    expect(commandLine([])).toBe('npm run bench');
    expect(commandLine(['--out', '/tmp/a b.md'])).toBe("npm run bench -- --out '/tmp/a b.md'");
    const { rssDrift } = await bench('memory-watch.mjs');
    const samples = [0, 10, 20, 80, 90, 100].map((t) => ({ t, rss: { ringproof: t < 50 ? 100 : 115, 'redis-server': 40 } }));
    const d = rssDrift(samples, [0, 20], [80, 100]);
    expect(d.find((x: { name: string }) => x.name === 'ringproof')).toMatchObject({ firstMb: 100, lastMb: 115, maxMb: 115 });
    expect(d.find((x: { name: string }) => x.name === 'ringproof').change).toBeCloseTo(0.15);
    expect(d.find((x: { name: string }) => x.name === 'redis-server').change).toBe(0);
  });
});
