// Command-line flags of `npm run bench -- ...`; no dependency, so the bench runs from a bare checkout.
import { parseDrachtioAdmin, parseHostPort } from './drachtio.mjs';

export const DEFAULT_RATES = [1000, 2000, 4000, 8000, 12000, 16000];
export const QUICK_RATES = [1000, 4000, 8000];
export const ALL_TARGETS = ['ringproof', 'reference', 'kamailio', 'ringproof-abuse-off', 'ringproof-abuse-on'];
/** The default targets; the abuse pair is asked for by name (issue #10's protections cost). */
const DEFAULT_TARGETS = ['ringproof', 'reference', 'kamailio'];
export const E2E_RATES = [250, 500, 1000, 2000];
export const PRODUCT_RATES = [2000, 4000, 8000, 16000];
export const PRODUCT_QUICK_RATES = [2000, 8000];
export const ENGINES = ['native', 'drachtio'];
export const MODES = ['sip', 'e2e', 'product', 'flood-memory', 'soak'];
export const LAYOUTS = ['all', 'thread', 'split'];

export const USAGE = `usage: npm run bench -- [options]
  --mode <mode>        sip: SIP edge alone (reject latency, CPU/call); e2e: sessions created through the
                       API, calls, webhooks at a real receiver, with Redis; product: the daemon as users
                       run it (role all, embedded Redis) under an unsolicited flood with legitimate
                       verifications through it; flood-memory: Redis memory before/after N unsolicited
                       calls; soak: RSS over a long run (default sip)
  --rates <list>       call rates (calls/s), comma-separated   (default sip ${DEFAULT_RATES.join(',')}; e2e ${E2E_RATES.join(',')};
                       product ${PRODUCT_RATES.join(',')}; flood-memory and soak 4000)
  --duration <s>       seconds of load per rate                 (default 10, product 20; --quick: 4, product 5)
  --transport udp|tcp  SIP transport for SIPp and the targets   (default udp)
  --engine <list>      ringproof SIP engine(s), native,drachtio: both run side by side (default native; sip mode)
  --drachtio <h:p:s>   drachtio-server admin address and secret (or env RINGPROOF_BENCH_DRACHTIO); without
                       it the bench starts its own from RINGPROOF_DRACHTIO_BIN or ../shared/peers/drachtio-server
  --drachtio-sip <h:p> drachtio-server's SIP address SIPp calls (or env RINGPROOF_BENCH_DRACHTIO_SIP;
                       default <admin host>:5060)
  --drachtio-pid <pid> drachtio-server's pid, for its CPU (default: the process listening on the admin port)
  --targets <list>     ringproof,reference,kamailio             (default all three; kamailio only when installed,
                       the report says N/A otherwise; sip and product modes). Also
                       ringproof-abuse-off,ringproof-abuse-on: the edge as users run it (queue sink,
                       pre-filter, blocklist copy, embedded Redis) with the flood guard, hammering and
                       enumeration detectors off, then on; CPU counts its redis-server too
  --kamailio <bin>     the kamailio binary                      (default kamailio on PATH)
  --role edge|all      ringproof's role in sip mode: edge = the SIP-only edge, no Redis (default);
                       all = also the embedded Redis, workers and API, idle beside the edge
  --scenario <which>   auto|shared|bench|<file.xml>: auto = sipp-scenarios/uac-reject.xml + callers.csv
                       when present, else bench/uac-load.xml   (default auto)
  --quick              short run: rates ${QUICK_RATES.join(',')}, 4 s each
  --repeat <n>         sip mode: run the whole ladder n times, targets interleaved at each rate; the
                       tables, ratios and verdicts use each target's median round, and a table lists
                       every round (default 1; 3 or 5 on a noisy machine)
  --settle <s>         max seconds to wait after each ringproof step for its transactions to drain (default 7)
  --cpu-prof <dir>     run the daemon under node --cpu-prof, profiles written to <dir>
  --out <file>         report path (default bench/reports/bench-<date>.md)
  --keep               keep the SIPp work directory (stat/rtt CSV files) for inspection
  e2e mode:
  --wait <s>           max seconds to wait after the calls for every verified webhook (default 60)
  --sample <n>         sessions read back with GET per rate (default 200)
  --concurrency <n>    parallel POST /v1/verifications while creating sessions (default 32)
  --dids <n>           size of the DID pool given to the daemon (default 3)
  product, flood-memory and soak modes:
  --layout <list>      all = one process in role all with its embedded redis-server; thread = the same with
                       pipeline.workerThread (workers in a worker thread); split = edge + worker(s) + api
                       processes on a redis-server the bench starts (default all; flood-memory and soak
                       use the first)
  --workers <n>        worker processes in the split layout     (default 1)
  --redis-fsync <p>    appendfsync of the split layout's redis-server: always|everysec (default always)
  --legit <n>          legitimate verifications per second through the flood, 0 = none (default 20;
                       flood-memory 0)
  --drain <s>          product: max seconds after the load for the backlog to drain, counted in the CPU
                       window (default 120)
  --calls <n>          flood-memory: unsolicited calls to send (default 1000000)
  --after <s>          flood-memory: seconds to watch Redis memory after the flood (default 60)
  --soak <s>           soak: seconds of load (default 600; implies --mode soak)
  --soak-warm <s>      soak: seconds of unreported flood at the soak rate first, so the bounded caches
                       (transactions, detectors, number cache) and V8's heap reach their steady size
                       before the first window (default 0)
  -h, --help           this text`;

function positiveNumber(flag, text) {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag}: "${text}" is not a positive number`);
  return n;
}

/** Parses argv (without node and script) into bench options; throws Error with a readable message. */
export function parseArgs(argv, env = process.env) {
  const o = {
    mode: 'sip',
    engines: ['native'],
    drachtio: undefined,
    drachtioSip: undefined,
    drachtioPid: undefined,
    wait: 60,
    sample: 200,
    concurrency: 32,
    dids: 3,
    layouts: ['all'],
    workers: 1,
    redisFsync: 'always',
    legit: undefined,
    drain: 120,
    calls: 1_000_000,
    after: 60,
    soak: 600,
    soakWarm: 0,
    kamailioBin: 'kamailio',
    rates: undefined,
    duration: undefined,
    transport: 'udp',
    role: 'edge',
    engine: 'native',
    targets: [...DEFAULT_TARGETS],
    quick: false,
    settle: 7,
    repeat: 1,
    cpuProf: undefined,
    out: undefined,
    keep: false,
    scenario: 'auto',
    help: false,
  };
  let soakGiven = false;
  let soakWarmGiven = false;
  let modeGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      if (i + 1 >= argv.length) throw new Error(`${flag} needs a value`);
      return argv[++i];
    };
    switch (flag) {
      case '--rates':
        o.rates = value().split(',').filter((s) => s.trim() !== '').map((s) => Math.round(positiveNumber('--rates', s.trim())));
        break;
      case '--duration':
        o.duration = positiveNumber('--duration', value());
        break;
      case '--transport': {
        const t = value();
        if (t !== 'udp' && t !== 'tcp') throw new Error(`--transport: "${t}" is not udp or tcp`);
        o.transport = t;
        break;
      }
      case '--engine': {
        const list = value().split(',').map((s) => s.trim()).filter((s) => s !== '');
        for (const e of list) if (!ENGINES.includes(e)) throw new Error(`--engine: unknown engine "${e}" (known: ${ENGINES.join(', ')})`);
        o.engines = [...new Set(list)];
        break;
      }
      case '--mode': {
        const m = value();
        if (!MODES.includes(m)) throw new Error(`--mode: "${m}" is not one of ${MODES.join(', ')}`);
        o.mode = m;
        modeGiven = true;
        break;
      }
      case '--drachtio':
        o.drachtio = parseDrachtioAdmin(value());
        break;
      case '--drachtio-sip':
        o.drachtioSip = parseHostPort(value());
        break;
      case '--drachtio-pid':
        o.drachtioPid = Math.round(positiveNumber('--drachtio-pid', value()));
        break;
      case '--wait':
        o.wait = positiveNumber('--wait', value());
        break;
      case '--sample':
        o.sample = Math.round(positiveNumber('--sample', value()));
        break;
      case '--concurrency':
        o.concurrency = Math.round(positiveNumber('--concurrency', value()));
        break;
      case '--dids':
        o.dids = Math.round(positiveNumber('--dids', value()));
        break;
      case '--layout': {
        const list = value().split(',').map((x) => x.trim()).filter((x) => x !== '');
        for (const l of list) if (!LAYOUTS.includes(l)) throw new Error(`--layout: unknown layout "${l}" (known: ${LAYOUTS.join(', ')})`);
        o.layouts = [...new Set(list)];
        break;
      }
      case '--workers':
        o.workers = Math.round(positiveNumber('--workers', value()));
        break;
      case '--redis-fsync': {
        const p = value();
        if (p !== 'always' && p !== 'everysec') throw new Error(`--redis-fsync: "${p}" is not always or everysec`);
        o.redisFsync = p;
        break;
      }
      case '--legit': {
        const t = value();
        const l = Number(t);
        if (!Number.isFinite(l) || l < 0) throw new Error(`--legit: "${t}" is not a number >= 0`);
        o.legit = l;
        break;
      }
      case '--drain':
        o.drain = positiveNumber('--drain', value());
        break;
      case '--calls':
        o.calls = Math.round(positiveNumber('--calls', value()));
        break;
      case '--after':
        o.after = positiveNumber('--after', value());
        break;
      case '--soak-warm': {
        const w = Number(value());
        if (!Number.isFinite(w) || w < 0) throw new Error(`--soak-warm: not a number of seconds >= 0`);
        o.soakWarm = w;
        soakWarmGiven = true;
        break;
      }
      case '--soak':
        o.soak = positiveNumber('--soak', value());
        soakGiven = true;
        break;
      case '--kamailio':
        o.kamailioBin = value();
        break;
      case '--targets': {
        const list = value().split(',').map((s) => s.trim()).filter((s) => s !== '');
        for (const t of list) if (!ALL_TARGETS.includes(t)) throw new Error(`--targets: unknown target "${t}" (known: ${ALL_TARGETS.join(', ')})`);
        o.targets = list;
        break;
      }
      case '--role': {
        const r = value();
        if (r !== 'edge' && r !== 'all') throw new Error(`--role: "${r}" is not edge or all`);
        o.role = r;
        break;
      }
      case '--quick':
        o.quick = true;
        break;
      case '--repeat': {
        const n = positiveNumber('--repeat', value());
        if (!Number.isInteger(n)) throw new Error(`--repeat: "${n}" is not a whole number`);
        o.repeat = n;
        break;
      }
      case '--settle':
        o.settle = positiveNumber('--settle', value());
        break;
      case '--cpu-prof':
        o.cpuProf = value();
        break;
      case '--out':
        o.out = value();
        break;
      case '--scenario':
        o.scenario = value();
        break;
      case '--keep':
        o.keep = true;
        break;
      case '-h':
      case '--help':
        o.help = true;
        break;
      default:
        throw new Error(`unknown option "${a}"`);
    }
  }
  if (soakGiven && !modeGiven) o.mode = 'soak';
  if (soakWarmGiven && o.mode !== 'soak') throw new Error(`--soak-warm is for --mode soak, not ${o.mode}`);
  if (soakGiven && o.mode !== 'soak') throw new Error(`--soak is for --mode soak, not ${o.mode}`);
  if (o.layouts.length === 0) throw new Error('--layout: no layout given');
  if (o.engines.length === 0) throw new Error('--engine: no engine given');
  o.engine = o.engines.join(',');
  if (o.engines.includes('drachtio')) {
    if (!o.drachtio && env.RINGPROOF_BENCH_DRACHTIO) o.drachtio = parseDrachtioAdmin(env.RINGPROOF_BENCH_DRACHTIO, 'RINGPROOF_BENCH_DRACHTIO');
    // No address given: run.mjs starts a drachtio-server itself (RINGPROOF_DRACHTIO_BIN or the shared binary).
    if (o.drachtio) {
      if (!o.drachtioSip && env.RINGPROOF_BENCH_DRACHTIO_SIP) o.drachtioSip = parseHostPort(env.RINGPROOF_BENCH_DRACHTIO_SIP, 'RINGPROOF_BENCH_DRACHTIO_SIP');
      o.drachtioSip ??= { host: o.drachtio.host, port: 5060 };
    }
  }
  if (o.mode !== 'sip' && o.repeat !== 1) throw new Error(`--repeat is for --mode sip (the other modes run long steps once)`);
  if (o.mode !== 'sip' && o.engines.some((e) => e !== 'native')) throw new Error(`--mode ${o.mode} runs the native engine only`);
  const product = o.mode === 'product';
  const single = o.mode === 'flood-memory' || o.mode === 'soak';
  o.rates ??= o.mode === 'e2e' ? [...E2E_RATES] : product ? [...(o.quick ? PRODUCT_QUICK_RATES : PRODUCT_RATES)] : single ? [4000] : o.quick ? [...QUICK_RATES] : [...DEFAULT_RATES];
  if (single && o.rates.length !== 1) throw new Error(`--mode ${o.mode} runs one rate: give one value to --rates`);
  o.duration ??= product ? (o.quick ? 5 : 20) : o.quick ? 4 : 10;
  o.legit ??= o.mode === 'flood-memory' ? 0 : 20;
  if (o.rates.length === 0) throw new Error('--rates: no rate given');
  if (o.targets.length === 0) throw new Error('--targets: no target given');
  return o;
}
