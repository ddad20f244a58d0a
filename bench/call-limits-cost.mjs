#!/usr/bin/env node
// `npm run bench:call-limits`: why the call limits are one script per batch rather than a limiter
// library. Batches of candidate calls (their CLI has a pending session) on a private redis-server,
// once through rate-limiter-flexible (one consume per limit and call, all of a batch in flight at
// once; it has no distinct-count limit, so perCliDids is left out) and once through the worker's
// RedisCallLimits (one script run per batch, all four limits). Reports wall time, Redis CPU and Redis
// commands per call. rate-limiter-flexible is not a dependency: it is installed for the run only
// (`npm install --no-save rate-limiter-flexible`). A measurement, not a test: it always exits 0.
// Usage: node bench/call-limits-cost.mjs [batches=200] [calls per batch=100]   (after npm run build)
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { RedisCallLimits } from '../dist/limits/call-limiter.js';
import { freePort } from './lib/free-port.mjs';

const BATCHES = Number(process.argv[2] ?? 200);
const PER = Number(process.argv[3] ?? 100);
const { RateLimiterRedis } = await import('rate-limiter-flexible').catch(() => {
  console.error('rate-limiter-flexible is needed for the comparison: npm install --no-save rate-limiter-flexible');
  process.exit(0);
});

const port = await freePort();
const srv = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
const redis = new Redis({ port, host: '127.0.0.1', retryStrategy: (n) => (n < 50 ? 100 : null) });
redis.on('error', () => undefined); // refused until redis-server listens; ioredis retries
await redis.ping();
const clis = Array.from({ length: 2000 }, (_, i) => `+1202555${String(i).padStart(4, '0')}`);
await redis.zadd('{b}:vpending', ...clis.flatMap((c) => [Date.now() + 3_600_000, c]));
const events = (b) => Array.from({ length: PER }, (_, i) => ({
  cli: clis[(b * PER + i) % clis.length], did: `+1555000000${i % 10}`, trunk: 'carrier', receivedAt: Date.now(),
}));

async function stats() {
  const info = await redis.info();
  const num = (re) => Number(re.exec(info)?.[1] ?? 0);
  return { cpu: num(/used_cpu_user:([\d.]+)/) + num(/used_cpu_sys:([\d.]+)/), commands: num(/total_commands_processed:(\d+)/) };
}

async function run(name, check) {
  const a = await stats();
  const t = performance.now();
  for (let b = 0; b < BATCHES; b++) await check(events(b));
  const ms = performance.now() - t;
  const z = await stats();
  const n = BATCHES * PER;
  console.log(`${name}: ${n} calls in ${BATCHES} batches: ${((ms * 1000) / n).toFixed(1)} µs/call wall, `
    + `Redis CPU ${(((z.cpu - a.cpu) * 1e6) / n).toFixed(1)} µs/call, ${((z.commands - a.commands) / n).toFixed(2)} commands/call`);
}

const huge = { count: 1e9, windowSeconds: 600 };
const library = ['cli', 'did', 'trunk'].map((k) => new RateLimiterRedis({ storeClient: redis, keyPrefix: `{b}:rlf:${k}`, points: 1e9, duration: 600 }));
const ours = new RedisCallLimits(redis, {
  prefix: '{b}', pendingKey: '{b}:vpending', limits: { enabled: true, perCli: huge, perCliDids: huge, perDid: huge, perTrunk: huge },
});
const viaLibrary = (evs) => Promise.all(evs.flatMap((e) => [library[0].consume(e.cli), library[1].consume(e.did), library[2].consume(e.trunk)]));
for (let round = 1; round <= 2; round++) {
  await run(`round ${round} rate-limiter-flexible (perCli, perDid, perTrunk)`, viaLibrary);
  await run(`round ${round} one script per batch (perCli, perDid, perTrunk, perCliDids)`, (evs) => ours.over(evs));
}
redis.disconnect();
srv.kill();
