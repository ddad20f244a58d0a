// A redis-server the bench starts itself, for the split-roles layout (edge, workers and API as separate
// processes on one Redis, as the README says roles split over processes must run): TCP on a free
// loopback port, data in a temporary directory, AOF with the fsync policy given.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, spawnTail, stopChild } from './child-process.mjs';
import { freePort } from './free-port.mjs';
import { redisCommand } from './redis-info.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts redis-server on 127.0.0.1 (`appendfsync` = always|everysec); resolves once it answers PING. */
export async function startRedisServer({ appendfsync = 'always', bin = 'redis-server' } = {}) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ringproof-bench-redis-'));
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'yes',
    '--dir', dir, '--appendonly', 'yes', '--appendfsync', appendfsync, '--save', '',
    '--daemonize', 'no', '--logfile', '', '--loglevel', 'warning',
  ];
  const { child, tail } = spawnTail(bin, args, { cwd: dir, env: cleanEnv() });
  const addr = { host: '127.0.0.1', port };
  const stop = async () => {
    await stopChild(child, tail, 10_000);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (tail.exited) throw new Error(`redis-server exited during start-up (${JSON.stringify(tail.exited)}):\n${tail.out}`);
    if (await redisCommand(addr, ['PING'], 500).then(() => true, () => false)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not answer PING within 10 s:\n${tail.out}`);
    }
    await sleep(100);
  }
  return { pid: child.pid, addr, url: `redis://127.0.0.1:${port}`, appendfsync, alive: () => tail.exited === undefined, output: () => tail.out, stop };
}
