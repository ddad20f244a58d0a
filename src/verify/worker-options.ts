import type { Cluster, Redis } from 'ioredis';
import type { AuditLog } from '../audit/audit-log.js';
import type { Logger } from '../log/logger.js';
import type { WebhookEmitter } from './verification-types.js';
import type { VerifyMetrics } from './verify-metrics.js';

/** What every verify queue worker (calls, expiry) is built with. */
export interface VerifyWorkerOptions {
  /** Connection for BullMQ (an ioredis instance with maxRetriesPerRequest: null). */
  connection: Redis | Cluster;
  /** Connection for the verify scripts; defaults to `connection`. */
  redis?: Redis | Cluster;
  /** Hash-tagged prefix, also BullMQ's `prefix`. */
  prefix: string;
  emitter: WebhookEmitter;
  /** webhooks.defaultUrl: used when the session has no callbackUrl. */
  defaultWebhookUrl?: string;
  metrics: VerifyMetrics;
  audit: AuditLog;
  concurrency?: number;
  clock?: () => number;
  logger?: Logger;
  retentionSeconds?: number;
  /** False to build without starting (call run() later, or use handle() directly). */
  autorun?: boolean;
}
