import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { REPO_ROOT } from './daemon-process.js';
import { freePort } from './free-port.js';

/** SIPp 3.6 on PATH (the e2e environment installs it). */
export const SIPP_BINARY = 'sipp';
export const SCENARIO_DIR = join(REPO_ROOT, 'sipp-scenarios');

export interface SippRunOptions {
  /** A file name in sipp-scenarios/ ("uac-reject.xml") or a path. */
  scenario: string;
  transport: 'udp' | 'tcp';
  /** host:port of the daemon. */
  target: string;
  /** Calls to place (-m); SIPp exits when they are done. */
  calls: number;
  /** Calls per second (-r), default 10. */
  rate?: number;
  /** Injection file (-inf): a file name in sipp-scenarios/ or a path. */
  injection?: string;
  /** Anything else for SIPp, e.g. ['-nr'] or ['-l', '50']. */
  extraArgs?: string[];
  /** Hard bound of the run: SIPp's -timeout, and a SIGKILL 5 s after it. Default 30 s. */
  timeoutMs?: number;
  /** Default wait on each <recv> without its own timeout (-recv_timeout), default 5 s. */
  recvTimeoutMs?: number;
  /** Local SIP port (-p); a free one by default. */
  localPort?: number;
  /** Keep the temp working dir (for debugging); removed by default. */
  keepDir?: boolean;
}

/** One line of SIPp's final scenario screen. */
export interface SippMessageStat {
  /** "INVITE", "486", "Pause", "NOP". */
  label: string;
  kind: 'send' | 'recv' | 'pause' | 'nop';
  /** Count in the "Messages" column (for a pause: calls that went through it). */
  messages: number;
  retrans: number;
  timeout: number;
  unexpected: number;
}

export interface SippStats {
  created: number;
  successful: number;
  failed: number;
  /** Every cumulative counter of the -trace_stat CSV by column name without "(C)", e.g. FailedUnexpectedMessage. */
  counters: Record<string, number>;
}

export interface SippResult {
  /** 0 all calls succeeded, 1 some failed, 97/99/255/254 see SIPp's manual; null when killed. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** True when the run hit timeoutMs and was killed. */
  timedOut: boolean;
  stats: SippStats;
  /** The scenario screen lines, in scenario order. */
  messages: SippMessageStat[];
  stdout: string;
  stderr: string;
  /** Contents of SIPp's error log (-trace_err), '' when none. */
  errors: string;
  localPort: number;
  /** The command line, for failure messages. */
  command: string;
  /** SIPp's working directory (its logs), only with keepDir: the caller removes it. */
  dir?: string;
}

export function scenarioPath(nameOrPath: string): string {
  if (isAbsolute(nameOrPath)) return nameOrPath;
  const inDir = join(SCENARIO_DIR, nameOrPath);
  return existsSync(inDir) ? inDir : resolve(nameOrPath);
}

/**
 * Runs SIPp once, as a client, in its own temp dir (SIPp writes its logs to the working directory),
 * with -nostdin, bounded by -m and a timeout, and returns its exit code, its statistics (-trace_stat
 * CSV) and its final screen parsed per scenario message.
 */
export async function runSipp(opts: SippRunOptions): Promise<SippResult> {
  const dir = mkdtempSync(join(tmpdir(), 'rp-sipp-'));
  const localPort = opts.localPort ?? (await freePort());
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const args = [
    '-sf', scenarioPath(opts.scenario),
    ...(opts.injection ? ['-inf', scenarioPath(opts.injection)] : []),
    opts.target,
    '-t', opts.transport === 'udp' ? 'u1' : 't1',
    '-i', '127.0.0.1',
    '-p', String(localPort),
    '-m', String(opts.calls),
    '-r', String(opts.rate ?? 10),
    '-recv_timeout', String(opts.recvTimeoutMs ?? 5000),
    '-timeout', `${Math.max(1, Math.ceil(timeoutMs / 1000))}s`,
    '-timeout_error',
    '-nostdin',
    '-trace_stat', '-stf', 'stats.csv', '-fd', '3600',
    '-trace_err', '-error_file', 'errors.log',
    ...(opts.extraArgs ?? []),
  ];
  const command = `${SIPP_BINARY} ${args.join(' ')}`;
  try {
    const run = await spawnBounded(SIPP_BINARY, args, dir, timeoutMs + 5000);
    const errorsFile = join(dir, 'errors.log');
    return {
      exitCode: run.exitCode,
      signal: run.signal,
      timedOut: run.timedOut,
      stats: readStats(join(dir, 'stats.csv')),
      messages: parseScreen(run.stdout),
      stdout: run.stdout,
      stderr: run.stderr,
      errors: existsSync(errorsFile) ? readFileSync(errorsFile, 'latin1') : '',
      localPort,
      command,
      ...(opts.keepDir ? { dir } : {}),
    };
  } finally {
    if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
  }
}

/** The nth (0-based) screen line with this label, e.g. message(result, '486'). */
export function sippMessage(result: SippResult, label: string, nth = 0): SippMessageStat {
  const found = result.messages.filter((m) => m.label === label)[nth];
  if (!found) throw new Error(`SIPp screen has no line "${label}" #${nth}: ${JSON.stringify(result.messages)}`);
  return found;
}

/** A one-paragraph summary for assertion messages. */
export function describeSipp(r: SippResult): string {
  return `${r.command}\nexit ${r.exitCode}${r.timedOut ? ' (timed out)' : ''}; created ${r.stats.created}, ok ${r.stats.successful}, failed ${r.stats.failed}\n${r.errors.slice(0, 2000)}\n${r.stderr.slice(0, 1000)}`;
}

function spawnBounded(cmd: string, args: string[], cwd: string, killAfterMs: number) {
  return new Promise<{ exitCode: number | null; signal: NodeJS.Signals | null; timedOut: boolean; stdout: string; stderr: string }>((res, rej) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('latin1').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('latin1').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, killAfterMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      rej(new Error(`cannot run ${cmd}: ${err.message}`));
    });
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      res({ exitCode, signal, timedOut, stdout, stderr });
    });
  });
}

/** The last row of the -trace_stat CSV, cumulative "(C)" columns. */
function readStats(file: string): SippStats {
  const counters: Record<string, number> = {};
  if (existsSync(file)) {
    const rows = readFileSync(file, 'latin1').split('\n').filter((l) => l.trim() !== '');
    const header = (rows[0] ?? '').split(';');
    const last = (rows.length > 1 ? rows[rows.length - 1] as string : '').split(';');
    header.forEach((name, i) => {
      const v = Number(last[i]);
      if (name.endsWith('(C)') && Number.isFinite(v)) counters[name.slice(0, -3)] = v;
      else if (name === 'TotalCallCreated' && Number.isFinite(v)) counters[name] = v;
    });
  }
  return {
    created: counters.TotalCallCreated ?? counters.OutgoingCall ?? 0,
    successful: counters.SuccessfulCall ?? 0,
    failed: counters.FailedCall ?? 0,
    counters,
  };
}

const ARROW = /^(\S+)\s+(-{3,}>|<-{3,})\s+(.*)$/;
const PAUSE = /^Pause\s+\[[^\]]*\]\s+(\d+)(?:\s+(\d+))?/;

/**
 * SIPp's last scenario screen (printed on exit), e.g.
 *       INVITE ---------->  B-RTD1 100       0         0
 *          486 <----------  E-RTD1 100       3         0         0
 *        Pause [   2500ms]         5                             0
 * Columns: Messages, Retrans, Timeout, Unexpected-Msg (sends have no Unexpected column).
 */
export function parseScreen(stdout: string): SippMessageStat[] {
  const start = stdout.lastIndexOf('Messages  Retrans');
  if (start === -1) return [];
  const out: SippMessageStat[] = [];
  for (const raw of stdout.slice(start).split('\n').slice(1)) {
    const line = raw.trim();
    if (line.startsWith('---') || line.startsWith('===')) break;
    if (line === '') continue;
    const pause = PAUSE.exec(line);
    if (pause) {
      out.push({ label: 'Pause', kind: 'pause', messages: Number(pause[1]), retrans: 0, timeout: 0, unexpected: Number(pause[2] ?? 0) });
      continue;
    }
    if (/^\[\s*NOP\s*\]/.test(line)) {
      out.push({ label: 'NOP', kind: 'nop', messages: 0, retrans: 0, timeout: 0, unexpected: 0 });
      continue;
    }
    const m = ARROW.exec(line);
    if (!m) continue;
    const nums = (m[3] as string).split(/\s+/).filter((t) => /^\d+$/.test(t)).map(Number);
    out.push({
      label: m[1] as string,
      kind: (m[2] as string).startsWith('<') ? 'recv' : 'send',
      messages: nums[0] ?? 0,
      retrans: nums[1] ?? 0,
      timeout: nums[2] ?? 0,
      unexpected: nums[3] ?? 0,
    });
  }
  return out;
}
