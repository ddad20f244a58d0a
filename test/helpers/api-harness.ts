import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { BlocklistStore } from '../../src/abuse/blocklist-store.js';
import { CreationChecks } from '../../src/api/creation-checks.js';
import { registerApi } from '../../src/api/register-api.js';
import type { ApiKeyConfig, RingproofConfig } from '../../src/config/config-types.js';
import { defaultConfig } from '../../src/config/defaults.js';
import { DidPool } from '../../src/dids/did-pool.js';
import { createLogger } from '../../src/log/logger.js';
import { createLimitMetrics } from '../../src/limits/create-limit-metrics.js';
import { createLimitsCheck } from '../../src/limits/create-limits-check.js';
import { startNumberIntelligence, type NumberIntelligence } from '../../src/numbers/number-intelligence.js';
import { EXPIRY_QUEUE, type ExpiryJobData } from '../../src/verify/queue-names.js';
import { RedisVerificationStore } from '../../src/verify/redis-verification-store.js';
import type { TestRedis } from './redis-server.js';

/** A real fastify server on a random loopback port, with the real Redis store behind the API. */
export interface ApiHarness {
  baseUrl: string;
  app: FastifyInstance;
  config: RingproofConfig;
  registry: Registry;
  redis: Redis;
  store: RedisVerificationStore;
  numbers: NumberIntelligence;
  prefix: string;
  /** Everything the logger wrote, one JSON object per entry. */
  logLines(): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

let harnessCount = 0;

/**
 * `allowPrivateTargets`: webhooks.allowPrivateTargets; default loopback, where test receivers run.
 * `configure`: last changes to the configuration (e.g. numbers.denyPrefixesFile).
 * `prefix`: the Redis key prefix; give two harnesses the same one to run them as two API processes
 * of one deployment (default: one of its own).
 */
export async function startApiHarness(
  testRedis: TestRedis,
  opts: { keys?: ApiKeyConfig[]; allowPrivateTargets?: string[]; configure?: (config: RingproofConfig) => void; prefix?: string; didPool?: boolean } = {},
): Promise<ApiHarness> {
  const config = defaultConfig();
  config.api.keys = opts.keys ?? [];
  config.webhooks.allowPrivateTargets = opts.allowPrivateTargets ?? ['127.0.0.0/8', '::1/128'];
  // Suites that are not about creation limits create far more sessions than the defaults allow.
  config.limits.create.enabled = false;
  opts.configure?.(config);
  // One prefix per harness, so servers sharing a redis-server never see each other's sessions.
  const prefix = opts.prefix ?? `{rpapi${++harnessCount}}`;
  const redis = new Redis(testRedis.url, { maxRetriesPerRequest: 2 });
  const expiryQueue = new Queue<ExpiryJobData>(EXPIRY_QUEUE, { connection: redis, prefix });
  const store = new RedisVerificationStore({ redis, prefix, dids: config.dids, expiryQueue });
  const written: string[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { written.push(String(chunk)); cb(); } });
  const logger = createLogger({ level: 'info', destination: sink });
  const registry = new Registry();
  const app = Fastify({ logger: false });
  const numbers = await startNumberIntelligence({ numbers: config.numbers, keys: config.api.keys, registry, logger, watchIntervalMs: 0 });
  const limits = createLimitsCheck({
    redis, prefix, limits: config.limits.create, keys: config.api.keys, metrics: createLimitMetrics(registry), logger,
  });
  // /v1/dids on a Redis pool seeded from config.dids (sessions still draw from the static list here).
  const didPool = opts.didPool ? new DidPool(redis, prefix, config.didPool) : undefined;
  await didPool?.seed(config.dids);
  await registerApi(app, {
    store, config, logger, registry, creationChecks: new CreationChecks([numbers.check, limits]), blocklist: new BlocklistStore(redis, prefix),
    ...(didPool ? { didPool } : {}),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  if (!addr || typeof addr !== 'object') throw new Error('server has no address');
  return {
    baseUrl: `http://127.0.0.1:${addr.port}`,
    app, config, registry, redis, store, numbers, prefix,
    logLines: () => written.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>),
    async close() {
      await app.close();
      numbers.close();
      await expiryQueue.close();
      redis.disconnect();
    },
  };
}
