import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';
import { scrapeMetrics, type MetricsSnapshot } from './metrics-scrape.js';

/** The repository root (this file is test/helpers/daemon-process.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The built CLI. Tests never build: `npm test` runs tsc first. */
export const CLI_PATH = join(REPO_ROOT, 'dist', 'command-line', 'main.js');

export interface DaemonProcessOptions {
  /**
   * Environment of the daemon, over the defaults below; a value of undefined removes the variable.
   * Defaults: RINGPROOF_EVENT_SINK=log (no Redis), RINGPROOF_CREATE_LIMITS_ENABLED=false, RINGPROOF_CALL_LIMITS_ENABLED=false, RINGPROOF_LOG_LEVEL=info, RINGPROOF_STATE_DIR=<temp
   * dir>, and RINGPROOF_SIP_LISTEN / RINGPROOF_HTTP_LISTEN on free loopback ports (set those yourself
   * only if you know the ports). The parent's RINGPROOF_* and REDIS_URL variables are NOT inherited,
   * so a developer's shell cannot change what a test runs.
   */
  env?: Record<string, string | undefined>;
  /** Extra arguments after `serve`. */
  args?: string[];
  /** Passed as --config. */
  configFile?: string;
  /** How long to wait for GET /readyz to answer 200 (default 20 s). */
  readyTimeoutMs?: number;
  /** SIP transports to listen on, both on the same port (default udp and tcp). */
  transports?: Array<'udp' | 'tcp'>;
  /**
   * The program and its leading arguments, before `serve` (default: this node running the repo's built
   * CLI). An installed `ringproof` bin is run as it is, so its shebang resolves `node` through PATH.
   */
  command?: readonly string[];
  /** Working directory of the daemon (default: the repository root). */
  cwd?: string;
}

/** Output of the daemon, line by line, as it arrives. */
export interface DaemonLogs {
  readonly stdout: string[];
  readonly stderr: string[];
  /** stdout lines that parse as JSON objects (pino log records). */
  json(): Array<Record<string, unknown>>;
  /** Resolves with the first JSON log record matching `pred` (already logged or future). */
  waitFor(pred: (rec: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

export interface DaemonProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly sipPort: number;
  readonly httpPort: number;
  /** http://127.0.0.1:<httpPort> */
  readonly baseUrl: string;
  /** The temp state dir (removed by stop()). */
  readonly stateDir: string;
  readonly logs: DaemonLogs;
  /** Scrape and parse GET /metrics. */
  metrics(): Promise<MetricsSnapshot>;
  /** True until the process exits. */
  running(): boolean;
  /**
   * Sends `signal` (default SIGTERM), waits for the exit (SIGKILL after `killAfterMs`, default 20 s) and
   * returns the exit code (null when killed by a signal). Idempotent.
   */
  stop(signal?: NodeJS.Signals, killAfterMs?: number): Promise<number | null>;
}

export interface CliRunResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Environment with the parent's ringproof settings removed, so tests are not steered by the shell. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('RINGPROOF_') || k === 'REDIS_URL') continue;
    env[k] = v;
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/**
 * Runs the built CLI once (e.g. `config check FILE`, or a `serve` expected to fail at start) and
 * collects its output. Killed with SIGKILL after timeoutMs.
 */
export function runRingproof(args: string[], opts: { env?: Record<string, string | undefined>; timeoutMs?: number; cwd?: string } = {}): Promise<CliRunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], {
      cwd: opts.cwd ?? REPO_ROOT,
      env: cleanEnv(opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolvePromise({ exitCode, signal, stdout, stderr });
    });
  });
}

/**
 * Starts `node dist/command-line/main.js serve` on free loopback ports and resolves once /readyz answers 200.
 * Retries with other ports if the chosen ones were taken in the meantime.
 */
export async function startDaemonProcess(opts: DaemonProcessOptions = {}): Promise<DaemonProcess> {
  if (!opts.command && !existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npx tsc -p .\` (npm test does) before the e2e tests`);
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      lastError = err as Error;
      // Only a lost port race is worth another try; anything else is the test's business.
      if (!/cannot bind|EADDRINUSE/i.test(lastError.message)) throw lastError;
    }
  }
  throw lastError as Error;
}

async function startOnce(opts: DaemonProcessOptions): Promise<DaemonProcess> {
  const sipPort = await freePort();
  let httpPort = await freePort();
  while (httpPort === sipPort) httpPort = await freePort();
  const stateDir = mkdtempSync(join(tmpdir(), 'rp-daemon-'));
  const transports = opts.transports ?? ['udp', 'tcp'];
  const env = cleanEnv({
    RINGPROOF_EVENT_SINK: 'log',
    // Suites create far more sessions than the default creation limits allow; limit tests turn them on.
    RINGPROOF_CREATE_LIMITS_ENABLED: 'false',
    RINGPROOF_CALL_LIMITS_ENABLED: 'false',
    RINGPROOF_LOG_LEVEL: 'info',
    RINGPROOF_STATE_DIR: stateDir,
    RINGPROOF_SIP_LISTEN: transports.map((t) => `${t}:127.0.0.1:${sipPort}`).join(','),
    RINGPROOF_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
    ...opts.env,
  });
  const [program, ...lead] = opts.command ?? [process.execPath, CLI_PATH];
  if (program === undefined) throw new Error('startDaemonProcess: command is empty');
  const args = [...lead, 'serve', ...(opts.configFile ? ['--config', opts.configFile] : []), ...(opts.args ?? [])];
  const child = spawn(program, args, { cwd: opts.cwd ?? REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });

  const logs = collectLogs(child);
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      res(exitInfo);
    });
  });
  child.once('error', () => undefined);

  const baseUrl = `http://127.0.0.1:${httpPort}`;
  const cleanup = (): void => rmSync(stateDir, { recursive: true, force: true });
  try {
    await waitReady(baseUrl, opts.readyTimeoutMs ?? 20_000, () => exitInfo, logs);
  } catch (err) {
    if (!exitInfo) {
      child.kill('SIGKILL');
      await exited;
    }
    cleanup();
    throw err;
  }

  let stopping: Promise<number | null> | undefined;
  return {
    child,
    pid: child.pid as number,
    sipPort,
    httpPort,
    baseUrl,
    stateDir,
    logs,
    metrics: () => scrapeMetrics(`${baseUrl}/metrics`),
    running: () => exitInfo === undefined,
    stop(signal: NodeJS.Signals = 'SIGTERM', killAfterMs = 20_000) {
      stopping ??= (async () => {
        if (!exitInfo) {
          child.kill(signal);
          const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
          await exited;
          clearTimeout(timer);
        }
        cleanup();
        return (exitInfo as { code: number | null }).code;
      })();
      return stopping;
    },
  };
}

async function waitReady(
  baseUrl: string,
  timeoutMs: number,
  exitInfo: () => { code: number | null; signal: NodeJS.Signals | null } | undefined,
  logs: DaemonLogs,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ex = exitInfo();
    if (ex) {
      throw new Error(`ringproof serve exited (code ${ex.code}, signal ${ex.signal}) before it was ready: ${logs.stderr.join(' | ') || logs.stdout.slice(-5).join(' | ')}`);
    }
    try {
      const res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`ringproof serve not ready after ${timeoutMs} ms: ${logs.stdout.slice(-5).join(' | ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function collectLogs(child: ChildProcess): DaemonLogs {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const records: Array<Record<string, unknown>> = [];
  const waiters = new Set<{ pred: (r: Record<string, unknown>) => boolean; resolve: (r: Record<string, unknown>) => void }>();
  const lineReader = (sink: string[], json: boolean) => {
    let partial = '';
    return (chunk: string): void => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        sink.push(line);
        if (!json) continue;
        let rec: unknown;
        try {
          rec = JSON.parse(line);
        } catch {
          continue;
        }
        if (rec === null || typeof rec !== 'object') continue;
        const r = rec as Record<string, unknown>;
        records.push(r);
        for (const w of waiters) {
          if (w.pred(r)) {
            waiters.delete(w);
            w.resolve(r);
          }
        }
      }
    };
  };
  child.stdout?.setEncoding('utf8').on('data', lineReader(stdout, true));
  child.stderr?.setEncoding('utf8').on('data', lineReader(stderr, false));
  return {
    stdout,
    stderr,
    json: () => records.slice(),
    waitFor(pred, timeoutMs = 10_000) {
      const found = records.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolveWait, reject) => {
        const w = { pred, resolve: (r: Record<string, unknown>) => { clearTimeout(timer); resolveWait(r); } };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`no matching log record within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(w);
      });
    },
  };
}
