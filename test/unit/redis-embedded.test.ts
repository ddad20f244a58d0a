import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedRedis } from '../../src/redis/embedded-redis.js';
import { createRedis } from '../../src/redis/redis-connection.js';
import { createLogger } from '../../src/log/logger.js';
import { ErrorCodes } from '../../src/errors/codes.js';
import { isRingproofError } from '../../src/errors/ringproof-error.js';

const logger = createLogger({ level: 'silent' });

describe('EmbeddedRedis', () => {
  let stateDir: string;
  const started: EmbeddedRedis[] = [];

  beforeEach(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'rp-emb-'));
  });
  afterEach(async () => {
    for (const r of started.splice(0)) await r.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  const make = (binary = 'redis-server'): EmbeddedRedis => {
    const r = new EmbeddedRedis({ binary, stateDir, logger, stopTimeoutMs: 5000, maxRestartDelayMs: 500 });
    started.push(r);
    return r;
  };

  it('starts on a unix socket, answers PING through createRedis, persists with AOF, stops', async () => {
    const r = make();
    await r.start();
    expect(r.url).toBe(`unix://${join(stateDir, 'redis', 'redis.sock')}`);
    expect(r.running).toBe(true);
    const conn = createRedis(r.url, { role: 'client' });
    try {
      expect(await conn.ping()).toBe('PONG');
      await conn.set('k', 'v');
      expect(await conn.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      expect(await conn.config('GET', 'port')).toEqual(['port', '0']);
    } finally {
      conn.disconnect();
    }
    // The SIP side's producer role and BullMQ work over the socket too.
    const producer = createRedis(r.url, { role: 'producer' });
    const q = new Queue('calls', { connection: producer, prefix: '{rp}' });
    try {
      await q.add('call', { x: 1 }, { jobId: 'abc' });
      expect(await q.getWaitingCount()).toBe(1);
    } finally {
      await q.close();
      producer.disconnect();
    }
    const pid = r.pid!;
    await r.start(); // already running: a no-op, not a second server
    expect(r.pid).toBe(pid);
    await r.stop();
    expect(r.running).toBe(false);
    expect(() => process.kill(pid, 0)).toThrow();

    // Data written before a clean stop is there after the next start.
    await r.start();
    const again = createRedis(r.url, { role: 'client' });
    try {
      expect(await again.get('k')).toBe('v');
    } finally {
      again.disconnect();
    }
  });

  it('throws REDIS_MISSING with an install hint when the binary is not on PATH', async () => {
    const r = make('no-such-redis-server');
    const err = await r.start().then(() => undefined, (e: unknown) => e);
    expect(isRingproofError(err)).toBe(true);
    expect((err as { code: string }).code).toBe(ErrorCodes.REDIS_MISSING);
    expect((err as Error).message).toBe(
      'no-such-redis-server not found on PATH: install it (Debian/Ubuntu: sudo apt-get install redis-server) or set REDIS_URL');
    expect((err as Error).message.includes('\n')).toBe(false);
  });

  it('reports REDIS_EMBEDDED_FAILED with redis\'s last output line when redis refuses to start', async () => {
    // A garbage AOF manifest makes redis exit at start with a message about it.
    mkdirSync(join(stateDir, 'redis', 'appendonlydir'), { recursive: true });
    writeFileSync(join(stateDir, 'redis', 'appendonlydir', 'appendonly.aof.manifest'), 'this is not a manifest\n');
    const r = make();
    const err = await r.start().then(() => undefined, (e: unknown) => e);
    expect(isRingproofError(err)).toBe(true);
    expect((err as { code: string }).code).toBe(ErrorCodes.REDIS_EMBEDDED_FAILED);
    expect((err as Error).message).toMatch(/embedded redis failed to start \(exit code 1\): .*manifest/i);
    expect(r.running).toBe(false);
  });

  it('starts over a stale socket file and stops a redis left over by a crashed run', async () => {
    mkdirSync(join(stateDir, 'redis'), { recursive: true });
    writeFileSync(join(stateDir, 'redis', 'redis.sock'), '');
    const first = make();
    await first.start();
    const orphanPid = first.pid!;
    // A second owner (as after a crash of the first ringproof) must take over, not run two servers on one dir.
    const second = make();
    await second.start();
    expect(second.pid).not.toBe(orphanPid);
    expect(() => process.kill(orphanPid, 0)).toThrow();
    const conn = createRedis(second.url, { role: 'client' });
    try {
      expect(await conn.ping()).toBe('PONG');
    } finally {
      conn.disconnect();
    }
  });

  it('once shutdown has begun, an exit of redis is reported and redis is never restarted', async () => {
    const r = make();
    await r.start();
    const pid = r.pid!;
    expect(r.beginShutdown()).toBe(true);
    const reported = new Promise<unknown>((res) => r.once('exitDuringShutdown', res));
    let restarted = false;
    r.once('restarted', () => { restarted = true; });
    process.kill(pid, 'SIGTERM');
    expect(await reported).toEqual({ code: 0, signal: null });
    // Past the first restart delay (250 ms), a restart would have been spawned by now.
    await new Promise((res) => setTimeout(res, 1000));
    expect(restarted).toBe(false);
    expect(r.running).toBe(false);
    expect(existsSync(r.socketPath)).toBe(false);
    expect(r.beginShutdown()).toBe(false);
  });

  it('setpriv (the parent-death signal) execs redis-server in place: the child pid is redis-server and its pid file', async () => {
    const r = make();
    await r.start();
    const status = readFileSync(`/proc/${r.pid}/status`, 'utf8');
    expect(readFileSync(`/proc/${r.pid}/cmdline`, 'utf8').split('\0')[0]).toMatch(/redis-server/);
    expect(readFileSync(join(stateDir, 'redis', 'redis.pid'), 'utf8').trim()).toBe(String(r.pid));
    expect(status).toMatch(/^Name:\s+redis-server/m);
  });

  it('restarts redis after it dies unexpectedly', async () => {
    const r = make();
    await r.start();
    const firstPid = r.pid!;
    const restarted = new Promise<void>((res) => r.once('restarted', () => res()));
    const exited = new Promise<unknown>((res) => r.once('exit', res));
    process.kill(firstPid, 'SIGKILL');
    expect(await exited).toEqual({ code: null, signal: 'SIGKILL' });
    await restarted;
    expect(r.pid).not.toBe(firstPid);
    expect(existsSync(r.socketPath)).toBe(true);
    const conn = createRedis(r.url, { role: 'client' });
    try {
      expect(await conn.ping()).toBe('PONG');
    } finally {
      conn.disconnect();
    }
  });
});
