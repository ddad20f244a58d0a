import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AuditLog } from '../audit/audit-log.js';
import type { RingproofConfig } from '../config/config-types.js';
import type { RedisConnection } from '../redis/redis-connection.js';
import { createCallerTrustMetrics } from '../trust/caller-trust-metrics.js';
import { createIdentityVerifier } from '../trust/identity-verifier-setup.js';
import { createCallLimitMetrics } from '../limits/call-limit-metrics.js';
import { RedisCallLimits } from '../limits/call-limiter.js';
import { CallWorker } from '../verify/call-worker.js';
import { verifyKeys } from '../verify/verify-keys.js';
import { ExpiryWorker } from '../verify/expiry-worker.js';
import type { VerifyMetrics } from '../verify/verify-metrics.js';
import { UnmarkedEmits } from '../verify/unmarked-emits.js';
import { DirectFirstEmitter } from '../webhooks/direct-first-emitter.js';
import { WebhookSigner } from '../webhooks/sign.js';
import { createWebhookMetrics } from '../webhooks/webhook-metrics.js';
import { WebhookQueue } from '../webhooks/webhook-queue.js';
import { replicaWaitFor } from '../redis/replica-wait.js';
import { WebhookWorker } from '../webhooks/webhook-worker.js';
import { webhookEgressPolicy } from '../webhooks/webhook-egress.js';
import { VERSION } from '../version/version.js';
import { startFlashRole, type FlashRole } from './flash-role.js';

export interface WorkerRoleDeps {
  /** A worker-role connection (maxRetriesPerRequest: null). */
  connection: RedisConnection;
  prefix: string;
  registry: Registry;
  verifyMetrics: VerifyMetrics;
  audit: AuditLog;
  logger: Logger;
  /** Signing secrets in force (configured, or the demo one). */
  webhookSecrets: readonly string[];
}

/**
 * BullMQ workers per queue and jobs each runs at once. Webhook jobs are I/O-bound (HTTP to the
 * receiver) and one per event: a BullMQ Worker fetches jobs one round trip after another, so several
 * Workers fetch in parallel. A calls job is a whole edge batch decided by one script, so two
 * Workers keep Redis busy; more would only queue scripts behind each other in Redis.
 */
const WORKERS_PER_QUEUE = 8;
const JOBS_PER_WORKER = 8;
const CALL_WORKERS = 2;

export interface WorkerRole {
  stop(): Promise<void>;
  /** SIGHUP: compiles the reloaded call limits and returns the function that puts them in force. */
  prepareReload(config: RingproofConfig): () => void;
}

/** Workers: calls → match/verify → direct webhook POST or webhooks queue; session expiry; webhook delivery. */
export async function startWorkerRole(config: RingproofConfig, deps: WorkerRoleDeps): Promise<WorkerRole> {
  const { connection, prefix, logger } = deps;
  const emitter = new WebhookQueue({ connection, prefix, maxAttempts: config.webhooks.maxAttempts, logger });
  // Verified webhooks: one direct POST from the call worker, the queue only when it fails (see
  // DirectFirstEmitter). Expiry webhooks are not latency-bound and keep going through the queue.
  const unmarked = new UnmarkedEmits();
  const egressPolicy = webhookEgressPolicy(config.webhooks);
  const direct = config.webhooks.directFirstAttempt
    ? new DirectFirstEmitter({
      fallback: emitter,
      signer: new WebhookSigner(deps.webhookSecrets),
      egressPolicy,
      metrics: createWebhookMetrics(deps.registry),
      version: VERSION,
      timeoutMs: config.webhooks.timeoutMs,
      onDelivered: (id) => unmarked.add(id),
      logger,
    })
    : undefined;
  const common = {
    connection,
    prefix,
    emitter,
    metrics: deps.verifyMetrics,
    audit: deps.audit,
    logger,
    ...(config.webhooks.defaultUrl !== undefined ? { defaultWebhookUrl: config.webhooks.defaultUrl } : {}),
  };
  const trustMetrics = createCallerTrustMetrics(deps.registry);
  const onTrustRefusal = (reason: string): void => trustMetrics.refusals.inc({ reason });
  if (config.trust.failed === 'accept') {
    logger.warn('trust.failed is "accept": calls whose caller ID failed STIR/SHAKEN validation can verify sessions');
  }
  const identity = createIdentityVerifier({
    config: config.trust.identity, policy: config.trust, redis: connection, prefix, metrics: trustMetrics, logger,
  });
  // Shared by the process's call workers (one set of counters in Redis anyway).
  const callLimits = new RedisCallLimits(connection, {
    prefix, limits: config.limits.calls, metrics: createCallLimitMetrics(deps.registry), pendingKey: verifyKeys(prefix).pending,
  });
  // One per connection: WAIT counts the writes of the connection it is sent on.
  const replicas = replicaWaitFor(config.redis, connection, logger);
  const calls = Array.from({ length: CALL_WORKERS }, () => new CallWorker({
    ...common, emitter: direct ?? emitter, unmarked, concurrency: JOBS_PER_WORKER, trust: config.trust, onTrustRefusal, callLimits,
    conversion: config.limits.conversion,
    dedupeWindowSeconds: config.pipeline.dedupeWindowSeconds, replicas,
    ...(identity !== undefined ? { identity: identity.verifier } : {}),
  }));
  const expiry = new ExpiryWorker(common);
  // The outbound UAC lives here, with the flash queue's worker (none without outbound trunks).
  const flash: FlashRole | undefined = config.outbound.trunks.length > 0 ? await startFlashRole(config, { ...common, registry: deps.registry }) : undefined;
  const webhooks = Array.from({ length: WORKERS_PER_QUEUE }, () => new WebhookWorker({
    connection,
    prefix,
    signer: new WebhookSigner(deps.webhookSecrets),
    egressPolicy,
    timeoutMs: config.webhooks.timeoutMs,
    concurrency: JOBS_PER_WORKER,
    version: VERSION,
    registry: deps.registry,
    logger,
  }));
  logger.info('workers running: calls, expiry, webhooks');
  return {
    stop: async () => {
      // Stop taking jobs first; jobs in flight finish (BullMQ close waits for them). Each phase's
      // time is logged: a slow one is what a shutdown over its grace period needs explained.
      const began = Date.now();
      await Promise.allSettled([...calls.map((c) => c.close()), expiry.close(), flash?.stop()]);
      logger.debug({ ms: Date.now() - began }, 'workers: calls, expiry and flash closed');
      direct?.close();
      await Promise.allSettled(webhooks.map((w) => w.close()));
      logger.debug({ ms: Date.now() - began }, 'workers: webhooks closed');
      await emitter.close();
      identity?.close();
    },
    prepareReload: (next) => callLimits.prepareReload(next.limits.calls),
  };
}
