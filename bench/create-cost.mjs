#!/usr/bin/env node
// `npm run bench:create`: what number intelligence adds to POST /v1/verifications. Two API instances
// in this process, on one private redis-server, differ only in their creation checks: "before" has
// none (as ringproof was before the number policy), "after" classifies with the full metadata and
// evaluates the default policy. Requests go through fastify's inject (no sockets), in alternating
// rounds, and are charged this process's CPU time (user + system); Redis's own CPU is not counted,
// and the classification adds no Redis work. Also: the classify + evaluate step alone, and what
// loading the full metadata costs once at start-up. A measurement, not a test: it always exits 0.
// Usage: node bench/create-cost.mjs [creates per round=2000] [rounds=3]   (after npm run build)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { CreationChecks } from '../dist/api/creation-checks.js';
import { registerApi } from '../dist/api/register-api.js';
import { defaultConfig } from '../dist/config/defaults.js';
import { createLogger } from '../dist/log/logger.js';
import { startNumberIntelligence } from '../dist/numbers/number-intelligence.js';
import { EmbeddedRedis } from '../dist/redis/embedded-redis.js';
import { EXPIRY_QUEUE } from '../dist/verify/queue-names.js';
import { RedisVerificationStore } from '../dist/verify/redis-verification-store.js';

const perRound = Number(process.argv[2] ?? 2000);
const rounds = Number(process.argv[3] ?? 3);
const WARM = 500;
const logger = createLogger({ level: 'silent' });

/** Valid numbers the default policy accepts, from several regions: US (NANP), GB, FR and DE mobiles. */
function numberFor(i) {
  const d = String(i % 10_000).padStart(4, '0');
  switch (i % 4) {
    case 0: return `+12025${String(10 + (Math.floor(i / 10_000) % 90))}${d}`;
    case 1: return `+447400${String(i % 1_000_000).padStart(6, '0')}`;
    case 2: return `+336${String(i % 100_000_000).padStart(8, '0')}`;
    default: return `+49151${String(i % 100_000_000).padStart(8, '0')}`;
  }
}

async function api(redis, name, withNumbers, registry) {
  const config = defaultConfig();
  const prefix = `{bench-${name}}`;
  const expiryQueue = new Queue(EXPIRY_QUEUE, { connection: redis, prefix });
  const store = new RedisVerificationStore({ redis, prefix, dids: config.dids, expiryQueue });
  const numbers = withNumbers ? await startNumberIntelligence({ numbers: config.numbers, keys: [], registry, logger, watchIntervalMs: 0 }) : undefined;
  const app = Fastify({ logger: false });
  await registerApi(app, { store, config, logger, registry, creationChecks: new CreationChecks(numbers ? [numbers.check] : []) });
  await app.ready();
  let n = 0;
  return {
    name,
    async creates(count, offset) {
      const t0 = process.cpuUsage();
      const w0 = process.hrtime.bigint();
      for (let i = 0; i < count; i++) {
        const res = await app.inject({ method: 'POST', url: '/v1/verifications', payload: { phoneNumber: numberFor(offset + n++) } });
        if (res.statusCode !== 201) throw new Error(`${name}: create answered ${res.statusCode} ${res.body}`);
      }
      const cpu = process.cpuUsage(t0);
      return { cpuUs: (cpu.user + cpu.system) / count, wallUs: Number(process.hrtime.bigint() - w0) / 1000 / count };
    },
    async close() {
      await app.close();
      numbers?.close();
      await expiryQueue.close();
    },
  };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main() {
  const stateDir = mkdtempSync(join(tmpdir(), 'ringproof-bench-create-'));
  const embedded = new EmbeddedRedis({ binary: 'redis-server', stateDir, logger });
  await embedded.start();
  const redis = new Redis(embedded.url, { maxRetriesPerRequest: null });
  try {
    // Start-up cost of the full metadata, once per process (heap after a GC, before and after).
    global.gc?.();
    const heap0 = process.memoryUsage().heapUsed;
    const t0 = process.hrtime.bigint();
    const probe = await startNumberIntelligence({ numbers: defaultConfig().numbers, keys: [], registry: new Registry(), logger, watchIntervalMs: 0 });
    const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
    global.gc?.();
    const heapMb = (process.memoryUsage().heapUsed - heap0) / 1024 / 1024;

    // The added step alone: classify + evaluate, in a tight loop.
    const N = 200_000;
    for (let i = 0; i < 20_000; i++) probe.policy.evaluate(numberFor(i), probe.classifier.classify(numberFor(i)), 'inbound_call');
    const s0 = process.cpuUsage();
    for (let i = 0; i < N; i++) {
      const e164 = numberFor(i);
      probe.policy.evaluate(e164, probe.classifier.classify(e164), 'inbound_call');
    }
    const s1 = process.cpuUsage(s0);
    const stepUs = (s1.user + s1.system) / N;
    probe.close();

    const before = await api(redis, 'before', false, new Registry());
    const after = await api(redis, 'after', true, new Registry());
    await before.creates(WARM, 0);
    await after.creates(WARM, 0);
    const results = { before: [], after: [] };
    for (let r = 0; r < rounds; r++) {
      // Alternate which goes first, so drift in background load falls on both.
      for (const t of r % 2 === 0 ? [before, after] : [after, before]) results[t.name].push(await t.creates(perRound, 1_000_000));
    }
    await before.close();
    await after.close();

    const b = median(results.before.map((x) => x.cpuUs));
    const a = median(results.after.map((x) => x.cpuUs));
    const bw = median(results.before.map((x) => x.wallUs));
    const aw = median(results.after.map((x) => x.wallUs));
    const lines = [
      `# Creation cost with number intelligence (node ${process.version}, ${rounds} rounds × ${perRound} creates, medians)`,
      '',
      '| | CPU µs per create (this process) | wall µs per create |',
      '|---|---:|---:|',
      `| before: no number checks | ${b.toFixed(1)} | ${bw.toFixed(1)} |`,
      `| after: classify (full metadata) + default policy | ${a.toFixed(1)} | ${aw.toFixed(1)} |`,
      `| **ratio after / before** | **${(a / b).toFixed(3)}** | ${(aw / bw).toFixed(3)} |`,
      '',
      `- classify + evaluate alone: ${stepUs.toFixed(2)} µs CPU per number (${N} numbers, US/GB/FR/DE mix)`,
      `- start-up, once: full metadata loaded and deny-prefix list read in ${loadMs.toFixed(0)} ms, ${global.gc ? `${heapMb.toFixed(1)} MB heap` : 'heap not measured (run node with --expose-gc)'}`,
      '- the SIP edge does not load the full metadata (src/edge and src/sip import nothing from src/numbers), so the per-INVITE path is unchanged',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    redis.disconnect();
    await embedded.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench: ${err?.stack ?? err}\n`);
  process.exitCode = 1;
});
