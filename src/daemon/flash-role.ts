import { Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { AuditLog } from '../audit/audit-log.js';
import type { RingproofConfig } from '../config/config-types.js';
import { CliPool } from '../flash/cli-pool.js';
import { DidPool } from '../dids/did-pool.js';
import { createFlashMetrics, flashUacObserver } from '../flash/flash-metrics.js';
import { FlashWorker } from '../flash/flash-worker.js';
import type { Logger } from '../log/logger.js';
import { createFlashUac } from '../sip/engines/index.js';
import { FLASH_QUEUE, type FlashJobData } from '../verify/queue-names.js';
import type { WebhookEmitter } from '../verify/verification-types.js';
import type { VerifyMetrics } from '../verify/verify-metrics.js';

export interface FlashRole {
  stop(): Promise<void>;
}

/** Jobs (calls in progress) one process takes at most, whatever the trunks' caps add up to. */
const MAX_FLASH_CONCURRENCY = 1000;

/**
 * The outbound side of the worker role (issue #12): the engine's UAC, the caller-ID pool
 * and the worker of the 'flash' queue. It lives with the workers, not the edge: it needs no SIP
 * listener (the native UAC has its own socket, the drachtio one its own drachtio-srf connection),
 * the edge's per-INVITE path stays free of it, and the workers
 * already own the session scripts, the audit trail and webhook delivery. The trunk caps (cps,
 * maxConcurrent) hold per process: run it in one worker process, or divide the caps.
 */
export async function startFlashRole(
  config: RingproofConfig,
  deps: { connection: Redis | Cluster; prefix: string; emitter: WebhookEmitter; metrics: VerifyMetrics; audit: AuditLog; logger: Logger; registry: Registry; defaultWebhookUrl?: string },
): Promise<FlashRole> {
  // The engine's UAC: the native one on its own socket, or drachtio-srf's with sip.engine drachtio.
  const uac = createFlashUac(config.outbound, config.sip, deps.logger, flashUacObserver(createFlashMetrics(deps.registry)));
  await uac.start();
  const trunks = config.outbound.trunks.map((t) => t.name);
  // The API role seeds the DID pool; a failed call's session draws its DID from it as a creation does.
  const dids = config.outbound.fallback === 'inbound_call' ? new DidPool(deps.connection, deps.prefix, config.didPool) : undefined;
  // A call that rang gets a delayed job on its own queue: unreported by then, the session falls back too.
  const fallbackQueue = dids === undefined ? undefined : new Queue<FlashJobData>(FLASH_QUEUE, { connection: deps.connection, prefix: deps.prefix });
  fallbackQueue?.on('error', (err) => deps.logger.warn({ err }, 'flash fallback queue error'));
  const concurrency = Math.min(MAX_FLASH_CONCURRENCY, config.outbound.trunks.reduce((n, t) => n + t.maxConcurrent, 0));
  const worker = new FlashWorker({
    connection: deps.connection, prefix: deps.prefix, uac, pool: new CliPool(config.outbound.trunks), trunks,
    emitter: deps.emitter, audit: deps.audit, metrics: deps.metrics, concurrency, logger: deps.logger,
    ...(dids === undefined || fallbackQueue === undefined ? {} : {
      fallbackDid: () => dids.pick(), fallbackQueue, reportWindowMs: config.outbound.reportWindowSeconds * 1000,
    }),
    ...(deps.defaultWebhookUrl === undefined ? {} : { defaultWebhookUrl: deps.defaultWebhookUrl }),
  });
  deps.logger.info({ trunks, engine: config.sip.engine, concurrency }, 'flash calls: outbound UAC running');
  return {
    stop: async () => {
      // Calls in flight end by themselves (CANCEL after the ring, or our ring timeout); then the socket closes.
      await worker.close();
      await fallbackQueue?.close();
      await uac.stop();
    },
  };
}
