import { Queue } from 'bullmq';
import type { RingproofConfig } from '../config/config-types.js';
import type { Logger } from '../log/logger.js';
import type { DeliverableEvent } from '../verify/verification-types.js';
import type { WebhookFallback } from './direct-first-emitter.js';
import { resolveConnection, type WebhookConnection, type WebhookRedis } from './webhook-connection.js';
import {
  webhookJobId,
  webhookJobOptions,
  type WebhookJobData,
  type WebhookJobResult,
  type WebhookRetryPolicy,
} from './webhook-job.js';
import { WEBHOOKS_QUEUE } from '../queue/queue-names.js';

export interface WebhookQueueOptions extends WebhookRetryPolicy {
  connection: WebhookConnection;
  /** RingproofConfig.redis.keyPrefix, e.g. "{ringproof}": BullMQ's `prefix`, one Cluster slot. */
  prefix: string;
  logger?: Logger;
}

/**
 * Producer side of webhook delivery: what the verify worker calls. The job id is derived from the
 * event id, so emitting the same event twice (a retried verify job) enqueues it once.
 */
export class WebhookQueue implements WebhookFallback {
  readonly queue: Queue<WebhookJobData, WebhookJobResult>;
  private readonly client: WebhookRedis;
  private readonly owned: boolean;
  private readonly policy: WebhookRetryPolicy;

  constructor(opts: WebhookQueueOptions) {
    const { connection, prefix, logger, ...policy } = opts;
    const { client, owned } = resolveConnection(connection, false);
    this.client = client;
    this.owned = owned;
    this.policy = policy;
    this.queue = new Queue<WebhookJobData, WebhookJobResult>(WEBHOOKS_QUEUE, { connection: client, prefix });
    // An EventEmitter 'error' without a listener would crash the process on a Redis blip.
    this.queue.on('error', (err: Error) => logger?.warn({ err: err.message }, 'webhook queue: redis error'));
  }

  static fromConfig(
    config: Pick<RingproofConfig, 'webhooks' | 'redis'>,
    connection: WebhookConnection,
    extra: Omit<WebhookRetryPolicy, 'maxAttempts'> & { logger?: Logger } = {},
  ): WebhookQueue {
    return new WebhookQueue({
      connection,
      prefix: config.redis.keyPrefix,
      maxAttempts: config.webhooks.maxAttempts,
      ...extra,
    });
  }

  async emit(event: DeliverableEvent, url: string): Promise<void> {
    await this.queue.add(event.type, { event, url }, webhookJobOptions(event.id, this.policy));
  }

  async emitLater(event: DeliverableEvent, url: string, delayMs: number): Promise<void> {
    await this.queue.add(event.type, { event, url }, { ...webhookJobOptions(event.id, this.policy), delay: delayMs });
  }

  /** BullMQ removes the job unless a webhook worker holds it (then it is delivered as usual). */
  async withdraw(eventId: string): Promise<boolean> {
    return (await this.queue.remove(webhookJobId(eventId))) === 1;
  }

  /** Closes the queue; quits the Redis client only if we created it from options. */
  async close(): Promise<void> {
    await this.queue.close();
    if (this.owned) await this.client.quit().catch(() => undefined);
  }
}
