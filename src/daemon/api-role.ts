import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { MemoryGuardedStore } from '../api/memory-guarded-store.js';
import { CreationChecks } from '../api/creation-checks.js';
import { registerApi } from '../api/register-api.js';
import { BlocklistStore } from '../abuse/blocklist-store.js';
import { AuditLog } from '../audit/audit-log.js';
import type { RingproofConfig } from '../config/config-types.js';
import { createLimitMetrics } from '../limits/create-limit-metrics.js';
import { createLimitsCheck } from '../limits/create-limits-check.js';
import { startNumberIntelligence } from '../numbers/number-intelligence.js';
import type { RedisConnection } from '../redis/redis-connection.js';
import { EXPIRY_QUEUE } from '../verify/queue-names.js';
import { RedisVerificationStore } from '../verify/redis-verification-store.js';
import type { VerifyMetrics } from '../verify/verify-metrics.js';

export interface ApiRole {
  stop(): Promise<void>;
  /**
   * Checks a reloaded configuration's DID pool (throws when it cannot be used) and returns the
   * function that puts it and the creation limits in force for new verifications.
   */
  prepareReload(config: RingproofConfig): () => void;
}

/** The verification API on the shared HTTP server; sessions live in Redis. */
export async function startApiRole(
  app: FastifyInstance,
  config: RingproofConfig,
  deps: {
    connection: RedisConnection; prefix: string; registry: Registry; verifyMetrics: VerifyMetrics; audit: AuditLog; logger: Logger;
    memory: { readonly ratio: number };
  },
): Promise<ApiRole> {
  // Full phone-number metadata and the deny-prefix list are loaded here, once, before the API listens
  // (first, so that a broken deny-prefix file stops start-up before this role opens anything).
  const numbers = await startNumberIntelligence({ numbers: config.numbers, keys: config.api.keys, registry: deps.registry, logger: deps.logger });
  const expiryQueue = new Queue(EXPIRY_QUEUE, { connection: deps.connection, prefix: deps.prefix });
  expiryQueue.on('error', (err) => deps.logger.warn({ err }, 'expiry queue error'));
  const store = new RedisVerificationStore({
    redis: deps.connection,
    prefix: deps.prefix,
    dids: [...config.dids],
    expiryQueue,
    metrics: deps.verifyMetrics,
    audit: deps.audit,
  });
  const guarded = new MemoryGuardedStore(store, deps.memory, config.redis.memoryHighWaterPercent / 100);
  // After the number policy: a number it refuses uses up no limit.
  const limits = createLimitsCheck({
    redis: deps.connection, prefix: deps.prefix, limits: config.limits.create, keys: config.api.keys,
    metrics: createLimitMetrics(deps.registry), logger: deps.logger,
  });
  const reloadDenyPrefixes = (): void => { numbers.policy.reload(); };
  process.on('SIGHUP', reloadDenyPrefixes);
  await registerApi(app, {
    store: guarded, config, logger: deps.logger, registry: deps.registry, creationChecks: new CreationChecks([numbers.check, limits]),
    blocklist: new BlocklistStore(deps.connection, deps.prefix),
  });
  return {
    stop: async () => {
      process.off('SIGHUP', reloadDenyPrefixes);
      numbers.close();
      await expiryQueue.close();
    },
    prepareReload: (next) => {
      const commits = [store.prepareDids(next.dids), limits.prepareReload(next.limits.create)];
      return () => { for (const commit of commits) commit(); };
    },
  };
}
