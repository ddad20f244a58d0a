import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { freePort } from './free-port.js';
import { Redis } from 'ioredis';

/** A real redis-server started for a test run, on a free loopback port, in a temp dir. */
export interface TestRedis {
  url: string;
  port: number;
  dir: string;
  process: ChildProcess;
  /** Kill it (SIGKILL when hard, to simulate a crash). */
  stop(hard?: boolean): Promise<void>;
  /** Start again on the same port and dir (AOF kept), after stop(). */
  restart(): Promise<void>;
}

export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ port, host: '127.0.0.1' });
      s.once('connect', () => { s.end(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A redis-server on a free loopback port. `appendfsync: 'always'` (the embedded Redis's setting)
 * for tests that SIGKILL it: with the default everysec, writes of the last second (a previous
 * test's cleanup, say) can be lost and their keys come back after the restart.
 */
export async function startTestRedis(opts: { appendonly?: boolean; appendfsync?: 'always' | 'everysec' } = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'rp-redis-'));
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
    '--appendonly', opts.appendonly === false ? 'no' : 'yes', '--appendfsync', opts.appendfsync ?? 'everysec',
    '--daemonize', 'no', '--loglevel', 'warning', '--protected-mode', 'yes',
  ];
  const launch = async (): Promise<ChildProcess> => {
    const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('error', (err) => { throw new Error(`cannot start redis-server: ${err.message}`); });
    await waitForPort(port, 10_000);
    return child;
  };
  const handle: TestRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    process: await launch(),
    async stop(hard = false) {
      const child = handle.process;
      if (child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill(hard ? 'SIGKILL' : 'SIGTERM');
      });
    },
    async restart() {
      handle.process = await launch();
    },
  };
  return handle;
}

export async function stopAndClean(redis: TestRedis): Promise<void> {
  await redis.stop(true);
  rmSync(redis.dir, { recursive: true, force: true });
}

/** Worker-style connections (maxRetriesPerRequest: null) to one test Redis, disconnected together. */
export function workerConnections(url: string): { open(): Redis; disconnectAll(): void } {
  const all: Redis[] = [];
  return {
    open() {
      const c = new Redis(url, { maxRetriesPerRequest: null });
      all.push(c);
      return c;
    },
    disconnectAll() {
      for (const c of all.splice(0)) c.disconnect();
    },
  };
}
