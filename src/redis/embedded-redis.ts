import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { ErrorCodes } from '../errors/codes.js';
import { RingproofError } from '../errors/ringproof-error.js';
import type { Logger } from '../log/logger.js';
import { findExecutable } from './find-executable.js';
import { pingUnixSocket } from './redis-ping.js';

export interface EmbeddedRedisOptions {
  /** redis-server binary: a name looked up on PATH, or a path (config redis.embeddedBinary). */
  binary: string;
  /** State directory; redis lives in `${stateDir}/redis`. */
  stateDir: string;
  logger: Logger;
  /** Environment for the PATH lookup and the child; defaults to this process's. */
  env?: NodeJS.ProcessEnv;
  /** How long redis may take to answer PING after spawn (AOF replay included). Default 30 s. */
  startTimeoutMs?: number;
  /** Grace after SIGTERM before SIGKILL. Default 10 s. */
  stopTimeoutMs?: number;
  /** Cap of the restart backoff after an unexpected exit. Default 10 s. */
  maxRestartDelayMs?: number;
  /** AOF fsync policy. Default everysec (see docs/memory-model.md, durability). */
  appendfsync?: 'everysec' | 'always';
  /** maxmemory in MiB with noeviction (BullMQ needs it); 0 = none. Default 0. */
  maxmemoryMb?: number;
}

/** Where the embedded redis-server keeps its data and socket, under the state directory. */
export function embeddedRedisDir(stateDir: string): string {
  return join(resolve(stateDir), 'redis');
}

/** The URL of the embedded redis-server's socket, for processes that did not start it (ops commands). */
export function embeddedRedisUrl(stateDir: string): string {
  return `unix://${join(embeddedRedisDir(stateDir), 'redis.sock')}`;
}

/** Linux sun_path holds 108 bytes including the NUL. */
const MAX_SOCKET_PATH = 107;
/** A child that stayed up this long is considered healthy again: backoff starts over. */
const HEALTHY_UPTIME_MS = 30_000;

/**
 * A private redis-server child for the no-REDIS_URL mode: unix socket only (no TCP port, so nothing
 * else on the host or network can reach it), AOF persistence (fsync every second by default; the
 * edge re-sends what Redis acknowledged in that window after a Redis restart, see docs/memory-model.md),
 * an optional memory ceiling with noeviction, supervised: an unexpected exit is logged and redis is
 * restarted with capped backoff.
 *
 * Events: "exit" ({code, signal}) on an unexpected exit, "restarted" when it is back, and
 * "exitDuringShutdown" ({code, signal}) when it exits by itself after beginShutdown() (a process
 * manager that signals the whole group): it is then never restarted.
 *
 * It must not outlive the daemon: on Linux it is started through `setpriv --pdeathsig SIGTERM`
 * (util-linux), so the kernel sends it SIGTERM when the daemon dies, SIGKILL included; and start()
 * stops a redis-server that a previous run's pid file still names.
 */
export class EmbeddedRedis extends EventEmitter {
  readonly dir: string;
  readonly socketPath: string;
  readonly pidFile: string;
  private readonly opts: Required<Omit<EmbeddedRedisOptions, 'env'>> & { env: NodeJS.ProcessEnv };
  private child: ChildProcess | undefined;
  /** No restart from now on: set by beginShutdown() and stop(). */
  private stopping = false;
  /** stop() signalled the child: its exit is ours, not news. */
  private stopSignalled = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private restartAttempt = 0;
  private startedAt = 0;
  private readonly recentLines: string[] = [];

  constructor(opts: EmbeddedRedisOptions) {
    super();
    this.opts = {
      startTimeoutMs: 30_000,
      stopTimeoutMs: 10_000,
      maxRestartDelayMs: 10_000,
      appendfsync: 'everysec',
      maxmemoryMb: 0,
      ...opts,
      env: opts.env ?? process.env,
    };
    this.dir = embeddedRedisDir(opts.stateDir);
    this.socketPath = join(this.dir, 'redis.sock');
    this.pidFile = join(this.dir, 'redis.pid');
  }

  /** For createRedis(): `unix:///abs/path/redis.sock`. */
  get url(): string {
    return embeddedRedisUrl(this.opts.stateDir);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once redis answers PING on its socket. */
  async start(): Promise<void> {
    if (this.running) return;
    const binary = this.resolveBinary();
    if (this.socketPath.length > MAX_SOCKET_PATH) {
      throw new RingproofError(ErrorCodes.REDIS_EMBEDDED_FAILED,
        `embedded redis socket path is ${this.socketPath.length} bytes, over the ${MAX_SOCKET_PATH}-byte limit: use a shorter stateDir or set REDIS_URL`);
    }
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new RingproofError(ErrorCodes.REDIS_EMBEDDED_FAILED,
        `cannot create the embedded redis directory ${this.dir}: ${(err as Error).message}`, { cause: err });
    }
    this.stopping = false;
    this.stopSignalled = false;
    await this.clearLeftover();
    await this.launch(binary);
  }

  /**
   * The daemon is shutting down: redis is never restarted from now on, though it keeps running
   * until stop(). Returns whether it is running now (false: it exited before the shutdown, or a
   * restart was pending).
   */
  beginShutdown(): boolean {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    return this.running;
  }

  /** SIGTERM (redis flushes its AOF and exits), SIGKILL after stopTimeoutMs. */
  async stop(): Promise<void> {
    this.beginShutdown();
    const child = this.child;
    if (!child || !this.running) return;
    this.stopSignalled = true;
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    child.kill('SIGTERM');
    const timedOut = await Promise.race([
      exited.then(() => false),
      delay(this.opts.stopTimeoutMs).then(() => true),
    ]);
    if (timedOut) {
      this.opts.logger.warn({ pid: child.pid }, 'embedded redis did not exit after SIGTERM; killing it');
      child.kill('SIGKILL');
      await exited;
    }
  }

  private resolveBinary(): string {
    const found = findExecutable(this.opts.binary, this.opts.env.PATH ?? '');
    if (found) return found;
    const where = this.opts.binary.includes('/') ? `at ${this.opts.binary}` : 'on PATH';
    throw new RingproofError(ErrorCodes.REDIS_MISSING,
      `${this.opts.binary} not found ${where}: install it (Debian/Ubuntu: sudo apt-get install redis-server) or set REDIS_URL`);
  }

  private args(): string[] {
    return [
      '--port', '0',
      '--unixsocket', this.socketPath,
      '--unixsocketperm', '700',
      '--dir', this.dir,
      '--pidfile', this.pidFile,
      '--daemonize', 'no',
      '--supervised', 'no',
      '--appendonly', 'yes',
      // everysec: one fsync a second instead of one per event-loop pass. A killed redis-server can
      // still lose its last ~2 s of acknowledged writes (a write postponed behind a slow fsync); the
      // edge covers that by re-sending recent batches after reconnecting (BullmqEventSink).
      '--appendfsync', this.opts.appendfsync,
      // noeviction: BullMQ's keys must never be evicted; near the ceiling writes fail instead, and
      // ringproof sheds unsolicited work and refuses new sessions before that (docs/memory-model.md).
      '--maxmemory', `${this.opts.maxmemoryMb}mb`,
      '--maxmemory-policy', 'noeviction',
      // The AOF is the persistence; periodic RDB snapshots would only add fork()s and disk writes.
      '--save', '',
      '--logfile', '',
      '--loglevel', 'warning',
      '--always-show-logo', 'no',
    ];
  }

  /**
   * A redis left running by a crashed ringproof (its pid file still names a live redis-server)
   * would share our data dir: stop it first. A stale socket file is removed (redis would replace
   * it too, but a live foreign server on it must be noticed, not silently displaced).
   */
  private async clearLeftover(): Promise<void> {
    const pid = readPid(this.pidFile);
    if (pid !== undefined && isAlive(pid) && looksLikeRedis(pid, this.opts.binary)) {
      this.opts.logger.warn({ pid }, 'stopping a redis-server left over from a previous run');
      await killAndWait(pid, this.opts.stopTimeoutMs);
    } else if (existsSync(this.socketPath) && (await pingUnixSocket(this.socketPath, 500)) !== 'down') {
      throw new RingproofError(ErrorCodes.REDIS_EMBEDDED_FAILED,
        `another redis-server is already serving ${this.socketPath} (not started by ringproof): stop it or set REDIS_URL`);
    }
    rmSync(this.socketPath, { force: true });
    rmSync(this.pidFile, { force: true });
  }

  private async launch(binary: string): Promise<void> {
    this.recentLines.length = 0;
    let spawnError: Error | undefined;
    // Own process group: a Ctrl-C at the terminal reaches the daemon only, which stops redis after
    // draining instead of losing it first.
    const [command, args] = this.command(binary);
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: this.opts.env, detached: true });
    this.child = child;
    child.once('error', (err) => { spawnError = err; });
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => this.onLine(line));
    }
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    const deadline = Date.now() + this.opts.startTimeoutMs;
    for (;;) {
      if (spawnError || child.exitCode !== null || child.signalCode !== null) {
        await Promise.race([exited, delay(200)]);
        throw this.startFailure(spawnError, child);
      }
      if (existsSync(this.socketPath) && (await pingUnixSocket(this.socketPath, 1000)) === 'pong') break;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        await exited;
        throw new RingproofError(ErrorCodes.REDIS_EMBEDDED_FAILED,
          `embedded redis did not answer within ${this.opts.startTimeoutMs} ms; last output: ${this.lastLine()}`);
      }
      await delay(25);
    }
    this.startedAt = Date.now();
    child.once('exit', (code, signal) => this.onExit(child, code, signal));
    this.opts.logger.info({ pid: child.pid, socket: this.socketPath }, 'embedded redis started');
  }

  /**
   * redis-server with its arguments, behind `setpriv --pdeathsig SIGTERM --` where util-linux's
   * setpriv exists: setpriv sets the parent-death signal and execs redis-server in the same process
   * (same pid, same pid file), so a SIGKILLed daemon's redis saves its AOF and exits instead of
   * living on orphaned. Without setpriv (macOS, a minimal image) the next start cleans up instead.
   */
  private command(binary: string): [string, string[]] {
    const setpriv = process.platform === 'linux' ? findExecutable('setpriv', this.opts.env.PATH ?? '') : undefined;
    return setpriv ? [setpriv, ['--pdeathsig', 'SIGTERM', '--', binary, ...this.args()]] : [binary, this.args()];
  }

  private startFailure(spawnError: Error | undefined, child: ChildProcess): RingproofError {
    if (spawnError && (spawnError as NodeJS.ErrnoException).code === 'ENOENT') {
      return new RingproofError(ErrorCodes.REDIS_MISSING,
        `${this.opts.binary} not found: install it (Debian/Ubuntu: sudo apt-get install redis-server) or set REDIS_URL`,
        { cause: spawnError });
    }
    const why = spawnError ? spawnError.message : `exit code ${child.exitCode ?? child.signalCode}`;
    return new RingproofError(ErrorCodes.REDIS_EMBEDDED_FAILED,
      `embedded redis failed to start (${why}): ${this.lastLine()}`, { cause: spawnError });
  }

  private onLine(line: string): void {
    const text = line.trim();
    if (!text) return;
    this.recentLines.push(text);
    if (this.recentLines.length > 20) this.recentLines.shift();
    this.opts.logger.info({ component: 'redis-server' }, text);
  }

  private lastLine(): string {
    return this.recentLines[this.recentLines.length - 1] ?? '(no output)';
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    if (this.stopping) {
      if (this.stopSignalled) return;
      this.opts.logger.warn({ code, signal, lastOutput: this.lastLine() },
        'embedded redis exited during shutdown; not restarting it');
      this.emit('exitDuringShutdown', { code, signal });
      return;
    }
    if (Date.now() - this.startedAt > HEALTHY_UPTIME_MS) this.restartAttempt = 0;
    const delayMs = Math.min(250 * 2 ** this.restartAttempt, this.opts.maxRestartDelayMs);
    this.restartAttempt++;
    this.opts.logger.error({ code, signal, lastOutput: this.lastLine(), restartInMs: delayMs },
      'embedded redis exited unexpectedly; restarting');
    this.emit('exit', { code, signal });
    this.scheduleRestart(delayMs);
  }

  private scheduleRestart(delayMs: number): void {
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      void this.restart();
    }, delayMs);
  }

  private async restart(): Promise<void> {
    try {
      await this.clearLeftover();
      await this.launch(this.resolveBinary());
      if (this.stopping) {
        // The shutdown began while it came back: stopped at once, and the daemon told it is gone.
        await this.stop();
        this.emit('exitDuringShutdown', { code: null, signal: null });
        return;
      }
      this.emit('restarted');
    } catch (err) {
      const delayMs = Math.min(250 * 2 ** this.restartAttempt, this.opts.maxRestartDelayMs);
      this.restartAttempt++;
      this.opts.logger.error({ err: (err as Error).message, restartInMs: delayMs }, 'embedded redis restart failed');
      if (!this.stopping) this.scheduleRestart(delayMs);
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}

function readPid(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 1 ? n : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Guards against pid reuse: only a process whose command line names redis-server is ours to kill. */
function looksLikeRedis(pid: number, binary: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('redis-server') || cmdline.includes(basename(binary));
  } catch {
    // No /proc (macOS): trust the pid file, which only redis itself writes there.
    return true;
  }
}

async function killAndWait(pid: number, timeoutMs: number): Promise<void> {
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      try { process.kill(pid, 'SIGKILL'); } catch { return; }
      await delay(100);
      return;
    }
    await delay(50);
  }
}
