import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { NO_ABUSE_EVENTS, type AbuseEventSink } from '../abuse/abuse-event.js';
import { WebhookAbuseEventSink } from '../abuse/abuse-webhook-sink.js';
import type { RingproofConfig } from '../config/config-types.js';
import type { RedisConnection } from '../redis/redis-connection.js';
import { WebhookQueue } from '../webhooks/webhook-queue.js';

/**
 * Where automatic abuse actions go: signed `abuse.*` webhooks through the webhooks queue when
 * `abuse.webhookUrl` is set (the worker role delivers them), nowhere otherwise.
 */
export function createAbuseEventSink(config: RingproofConfig, connection: RedisConnection, prefix: string, registry: Registry, logger: Logger): AbuseEventSink {
  const url = config.abuse.webhookUrl;
  if (url === undefined) return NO_ABUSE_EVENTS;
  const queue = new WebhookQueue({ connection, prefix, maxAttempts: config.webhooks.maxAttempts, logger });
  return new WebhookAbuseEventSink({ queue, url, logger, registry });
}
