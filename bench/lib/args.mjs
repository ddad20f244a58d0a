// Command-line flags of `npm run bench -- ...`; no dependency, so the bench runs from a bare checkout.

export const DEFAULT_RATES = [1000, 2000, 4000, 8000, 12000, 16000];
export const QUICK_RATES = [1000, 4000, 8000];
export const ALL_TARGETS = ['ringproof', 'reference'];

export const USAGE = `usage: npm run bench -- [options]
  --rates <list>       call rates (calls/s), comma-separated   (default ${DEFAULT_RATES.join(',')})
  --duration <s>       seconds of load per rate                 (default 10; --quick: 4)
  --transport udp|tcp  SIP transport for SIPp and the targets   (default udp)
  --engine <name>      ringproof SIP engine                     (default native)
  --targets <list>     ringproof,reference                      (default both)
  --scenario <which>   auto|shared|bench|<file.xml>: auto = sipp-scenarios/uac-reject.xml + callers.csv
                       when present, else bench/uac-load.xml   (default auto)
  --quick              short run: rates ${QUICK_RATES.join(',')}, 4 s each
  --settle <s>         max seconds to wait after each ringproof step for its transactions to drain (default 7)
  --cpu-prof <dir>     run the daemon under node --cpu-prof, profiles written to <dir>
  --out <file>         report path (default bench/reports/bench-<date>.md)
  --keep               keep the SIPp work directory (stat/rtt CSV files) for inspection
  -h, --help           this text`;

function positiveNumber(flag, text) {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag}: "${text}" is not a positive number`);
  return n;
}

/** Parses argv (without node and script) into bench options; throws Error with a readable message. */
export function parseArgs(argv) {
  const o = {
    rates: undefined,
    duration: undefined,
    transport: 'udp',
    engine: 'native',
    targets: [...ALL_TARGETS],
    quick: false,
    settle: 7,
    cpuProf: undefined,
    out: undefined,
    keep: false,
    scenario: 'auto',
    help: false,
  };
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
      case '--engine':
        o.engine = value();
        break;
      case '--targets': {
        const list = value().split(',').map((s) => s.trim()).filter((s) => s !== '');
        for (const t of list) if (!ALL_TARGETS.includes(t)) throw new Error(`--targets: unknown target "${t}" (known: ${ALL_TARGETS.join(', ')})`);
        o.targets = list;
        break;
      }
      case '--quick':
        o.quick = true;
        break;
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
  o.rates ??= o.quick ? [...QUICK_RATES] : [...DEFAULT_RATES];
  o.duration ??= o.quick ? 4 : 10;
  if (o.rates.length === 0) throw new Error('--rates: no rate given');
  if (o.targets.length === 0) throw new Error('--targets: no target given');
  return o;
}
