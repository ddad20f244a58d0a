import { closeWorker } from '../queue/close-worker.js';
import { signedRequest } from './signed-request.js';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { LookupFunction } from 'node:net';
import type { Registry } from 'prom-client';
import type { RingproofConfig } from '../config/config-types.js';
import type { EgressPolicy } from '../egress/egress-policy.js';
import { ErrorCodes } from '../errors/codes.js';
import { RingproofError } from '../errors/ringproof-error.js';
import type { Logger } from '../log/logger.js';
import { pushDeadLetter, countDeadLetters } from './dead-letters.js';
import { resolveConnection, type WebhookConnection, type WebhookRedis } from './webhook-connection.js';
import { postWebhook, WebhookAgents } from './webhook-http.js';
import {
  DEFAULT_DEAD_LETTER_MAX,
  type WebhookJobData,
  type WebhookJobResult,
} from './webhook-job.js';
import { createWebhookMetrics, statusClass, type WebhookMetrics } from './webhook-metrics.js';
import { WebhookSigner } from './sign.js';
import { webhookEgressPolicy } from './webhook-egress.js';
import { WEBHOOKS_QUEUE } from '../queue/queue-names.js';

export interface WebhookWorkerOptions {
  /** A client with `maxRetriesPerRequest: null`, or options (we then create and own the client). */
  connection: WebhookConnection;
  /** RingproofConfig.redis.keyPrefix. */
  prefix: string;
  signer: WebhookSigner;
  /** Which destinations deliveries may reach (webhookEgressPolicy(config.webhooks)). */
  egressPolicy: EgressPolicy;
  /** Resolver behind the egress guard; default dns.lookup (tests pass a local one). */
  resolve?: LookupFunction;
  /** Per-attempt HTTP timeout (headers and error body). */
  timeoutMs: number;
  /** ringproof's version, sent as `User-Agent: ringproof/<version>`. */
  version: string;
  /** metrics.registry from src/metrics/metrics.ts. */
  registry: Registry;
  logger?: Logger;
  /** Deliveries in flight at once; they are I/O-bound. Default 16. */
  concurrency?: number;
  deadLetterMax?: number;
  /** Start consuming at once (default true). */
  autorun?: boolean;
}

function host(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid)';
  }
}

/**
 * Consumer side: POSTs each event, signed per Standard Webhooks. A non-2xx answer throws so BullMQ
 * retries with backoff; the last failed attempt is written to the dead-letter list first.
 */
export class WebhookWorker {
  readonly worker: Worker<WebhookJobData, WebhookJobResult>;
  readonly metrics: WebhookMetrics;
  private readonly client: WebhookRedis;
  private readonly owned: boolean;
  private readonly userAgent: string;
  private readonly agents: WebhookAgents;

  constructor(private readonly opts: WebhookWorkerOptions) {
    const { client, owned } = resolveConnection(opts.connection, true);
    this.client = client;
    this.owned = owned;
    this.userAgent = `ringproof/${opts.version}`;
    this.metrics = createWebhookMetrics(opts.registry);
    this.agents = new WebhookAgents({
      policy: opts.egressPolicy,
      onRefused: this.metrics.refusedAtConnect,
      ...(opts.resolve !== undefined ? { resolve: opts.resolve } : {}),
    });
    this.metrics.setDeadLetterSource(() => countDeadLetters(client, opts.prefix));
    this.worker = new Worker<WebhookJobData, WebhookJobResult>(WEBHOOKS_QUEUE, (job) => this.deliver(job), {
      connection: client,
      prefix: opts.prefix,
      concurrency: opts.concurrency ?? 16,
      // Deliveries are bounded by timeoutMs; take over a dead worker's jobs quickly (see verify/worker-timing).
      lockDuration: Math.max(10_000, opts.timeoutMs * 2),
      stalledInterval: 5_000,
      autorun: opts.autorun ?? true,
    });
    // Without a listener an 'error' event (Redis blip) would crash the process.
    this.worker.on('error', (err: Error) => opts.logger?.warn({ err: err.message }, 'webhook worker: redis error'));
  }

  static fromConfig(
    config: Pick<RingproofConfig, 'webhooks' | 'redis'>,
    deps: { connection: WebhookConnection; registry: Registry; version: string; logger?: Logger; concurrency?: number },
  ): WebhookWorker {
    return new WebhookWorker({
      ...deps,
      prefix: config.redis.keyPrefix,
      signer: WebhookSigner.fromConfig(config.webhooks),
      egressPolicy: webhookEgressPolicy(config.webhooks),
      timeoutMs: config.webhooks.timeoutMs,
    });
  }

  /** Resolves once the worker's Redis connections are up. */
  async waitUntilReady(): Promise<void> {
    await this.worker.waitUntilReady();
  }

  /** Waits for deliveries in flight (each bounded by timeoutMs), then disconnects. */
  async close(): Promise<void> {
    await closeWorker(this.worker);
    this.agents.destroy();
    if (this.owned) await this.client.quit().catch(() => undefined);
  }

  private async deliver(job: Job<WebhookJobData, WebhookJobResult>): Promise<WebhookJobResult> {
    const { event, url } = job.data;
    const attempt = job.attemptsMade + 1;
    const maxAttempts = job.opts.attempts ?? 1;
    const { body, headers } = signedRequest(this.opts.signer, this.userAgent, event);
    const res = await postWebhook(url, body, headers, this.opts.timeoutMs, this.agents);
    // A refused destination made no round trip to time.
    if (res.refused === undefined) this.metrics.deliverySeconds.observe({ status_class: statusClass(res.status) }, res.seconds);

    if (res.ok) {
      this.metrics.deliveries.inc({ type: event.type, result: 'success' });
      const callAt = event.type === 'verification.verified' ? event.data.verification.callReceivedAt : undefined;
      if (typeof callAt === 'number') {
        // Wall clock, not performance.now(): callReceivedAt comes from another process (the edge),
        // and the monotonic clock drifts from wall time over a long uptime.
        this.metrics.inviteToWebhook.observe(Math.max(0, (Date.now() - callAt) / 1000));
      }
      return { status: res.status ?? 0, attempt };
    }

    const error = res.error ?? 'delivery failed';
    const log = { eventId: event.id, type: event.type, host: host(url), attempt, maxAttempts, error, ...(res.refused ? { refused: res.refused } : {}) };
    if (!res.permanent && attempt < maxAttempts) {
      this.metrics.deliveries.inc({ type: event.type, result: 'retry' });
      this.opts.logger?.info(log, 'webhook delivery failed, will retry');
      throw new RingproofError(ErrorCodes.WEBHOOK_DELIVERY, error);
    }

    // Record before failing the job: once BullMQ marks it failed, nothing else knows to keep it.
    try {
      await pushDeadLetter(
        this.client,
        this.opts.prefix,
        { event, url, attempts: attempt, lastError: error, failedAt: new Date().toISOString() },
        this.opts.deadLetterMax ?? DEFAULT_DEAD_LETTER_MAX,
      );
    } catch (err) {
      this.opts.logger?.error({ ...log, err: (err as Error).message }, 'webhook dead letter could not be stored');
    }
    this.metrics.deliveries.inc({ type: event.type, result: 'dead' });
    this.opts.logger?.warn(log, 'webhook delivery gave up; moved to dead letters');
    // Unrecoverable: a permanent failure must not be retried even with attempts left.
    throw new UnrecoverableError(`${ErrorCodes.WEBHOOK_DELIVERY}: ${error}`);
  }
}
