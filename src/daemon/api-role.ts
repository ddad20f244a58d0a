import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { unavailableError } from '../api/api-request-error.js';
import { MemoryGuardedStore } from '../api/memory-guarded-store.js';
import { DidPool } from '../dids/did-pool.js';
import { createDidFlagMetrics, DidFlagWatch } from '../dids/did-flag-watch.js';
import { CreationChecks } from '../api/creation-checks.js';
import { registerApi } from '../api/register-api.js';
import { BlocklistStore } from '../abuse/blocklist-store.js';
import { AuditLog } from '../audit/audit-log.js';
import type { RingproofConfig } from '../config/config-types.js';
import { createLimitMetrics } from '../limits/create-limit-metrics.js';
import { createLimitsCheck } from '../limits/create-limits-check.js';
import { conversionCheck } from '../limits/conversion-check.js';
import { startNumberIntelligence } from '../numbers/number-intelligence.js';
import type { RedisConnection } from '../redis/redis-connection.js';
import { EXPIRY_QUEUE, FLASH_QUEUE, type FlashJobData } from '../verify/queue-names.js';
import { FlashReports } from '../verify/flash-report.js';
import { createFlashMetrics } from '../flash/flash-metrics.js';
import { flashThrottleCheck } from '../flash/flash-throttle.js';
import { WebhookQueue } from '../webhooks/webhook-queue.js';
import { RedisVerificationStore } from '../verify/redis-verification-store.js';
import type { VerifyMetrics } from '../verify/verify-metrics.js';
import { createAbuseEventSink } from './abuse-event-sink.js';

export interface ApiRole {
  stop(): Promise<void>;
  /**
   * Compiles a reloaded configuration's creation limits and returns the function that puts them in
   * force, with the DID pool seeded from its dids and its didPool settings.
   */
  prepareReload(config: RingproofConfig): () => void;
}

/** Seconds a creation is asked to wait when no DID is in service. */
const NO_DID_RETRY_AFTER_SECONDS = 60;

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
  // The DID pool lives in Redis, seeded from the configuration's dids (README "DID pool").
  const didPool = new DidPool(deps.connection, deps.prefix, config.didPool);
  const inService = await didPool.seed(config.dids);
  if (inService === 0) deps.logger.warn('DID pool: no DID is in service (all released?); creations answer 503 until one is added or restored');
  // Flash calls (issue #12): sessions go to the 'flash' queue, whose worker (the worker role) owns the
  // UAC; reports are taken here, and their verified webhook goes through the webhooks queue.
  const flashOn = config.outbound.trunks.length > 0;
  const flashQueue = flashOn ? new Queue<FlashJobData>(FLASH_QUEUE, { connection: deps.connection, prefix: deps.prefix }) : undefined;
  flashQueue?.on('error', (err) => deps.logger.warn({ err }, 'flash queue error'));
  const reportWebhooks = flashOn ? new WebhookQueue({ connection: deps.connection, prefix: deps.prefix, maxAttempts: config.webhooks.maxAttempts, logger: deps.logger }) : undefined;
  const flashReports = reportWebhooks === undefined ? undefined : new FlashReports({
    redis: deps.connection, prefix: deps.prefix, audit: deps.audit, emitter: reportWebhooks, defaultWebhookUrl: config.webhooks.defaultUrl, expiryQueue,
    metrics: createFlashMetrics(deps.registry),
  });
  const store = new RedisVerificationStore({
    redis: deps.connection,
    prefix: deps.prefix,
    dids: [...config.dids],
    didSource: {
      pick: async () => (await didPool.pick()) ?? Promise.reject(unavailableError('no DID of the pool is in service: add or restore one (ringproof dids)', NO_DID_RETRY_AFTER_SECONDS)),
    },
    expiryQueue,
    ...(flashQueue === undefined ? {} : { flashQueue }),
    metrics: deps.verifyMetrics,
    audit: deps.audit,
  });
  const guarded = new MemoryGuardedStore(store, deps.memory, config.redis.memoryHighWaterPercent / 100);
  const limitMetrics = createLimitMetrics(deps.registry);
  // After the number policy: a number it refuses uses up no limit.
  const limits = createLimitsCheck({
    redis: deps.connection, prefix: deps.prefix, limits: config.limits.create, keys: config.api.keys,
    metrics: limitMetrics, logger: deps.logger,
  });
  // After the limits: a creation they refuse is not throttled twice. A creation limit itself, so
  // limits.create.enabled: false turns it off too.
  const conv = config.limits.conversion;
  const lowConversion = conversionCheck({
    redis: deps.connection, prefix: deps.prefix, conversion: { ...conv, enabled: conv.enabled && config.limits.create.enabled },
    metrics: limitMetrics, logger: deps.logger,
  });
  // Flags are logged, counted, listed, and sent as signed abuse.flagged webhooks when abuse.webhookUrl is set.
  const abuseEvents = createAbuseEventSink(config, deps.connection, deps.prefix, deps.registry, deps.logger);
  const didFlags = new DidFlagWatch({
    redis: deps.connection, prefix: deps.prefix, pool: didPool, events: abuseEvents, metrics: createDidFlagMetrics(deps.registry), logger: deps.logger,
  });
  didFlags.start();
  const reloadDenyPrefixes = (): void => { numbers.policy.reload(); };
  process.on('SIGHUP', reloadDenyPrefixes);
  await registerApi(app, {
    store: guarded, config, logger: deps.logger, registry: deps.registry, creationChecks: new CreationChecks([
      // Last: a flash call refused by another check uses up none of the number's flash calls.
      numbers.check, limits, lowConversion, flashThrottleCheck({ redis: deps.connection, prefix: deps.prefix, window: config.outbound.perNumber, logger: deps.logger }),
    ]),
    blocklist: new BlocklistStore(deps.connection, deps.prefix), didPool,
    ...(flashReports === undefined ? {} : { flashReports }),
  });
  return {
    stop: async () => {
      process.off('SIGHUP', reloadDenyPrefixes);
      await didFlags.stop();
      await abuseEvents.close();
      numbers.close();
      await expiryQueue.close();
      await flashQueue?.close();
      await reportWebhooks?.close();
    },
    prepareReload: (next) => {
      const commits = [limits.prepareReload(next.limits.create)];
      return () => {
        for (const commit of commits) commit();
        didPool.reconfigure(next.didPool);
        // On the connection creations use, so a creation after the reload sees the new pool.
        didPool.seed(next.dids).catch((err: unknown) => deps.logger.error({ err }, 'SIGHUP: the DID pool could not be seeded from dids; it stays as it was'));
      };
    },
  };
}
