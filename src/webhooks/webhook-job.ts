import type { JobsOptions } from 'bullmq';
import type { DeliverableEvent } from '../verify/verification-types.js';

import { WEBHOOKS_QUEUE } from '../queue/queue-names.js';

/** What one job carries: the event (its JSON is the body) and where it goes. */
export interface WebhookJobData {
  event: DeliverableEvent;
  url: string;
}

/** What a successful delivery job returns (kept in the completed set for inspection). */
export interface WebhookJobResult {
  status: number;
  attempt: number;
}

export interface WebhookRetryPolicy {
  /** Total tries, the first included. */
  maxAttempts: number;
  /** Exponential backoff base: the wait before retry n is base * 2^(n-1). */
  backoffMs?: number;
  /** 0..1: spread retries so a recovering receiver is not hit by every job at once. */
  backoffJitter?: number;
  /** Completed/failed jobs kept in Redis (counts); the dead-letter list is the durable failure record. */
  keepCompleted?: number;
  keepFailed?: number;
}

export const DEFAULT_BACKOFF_MS = 1000;
export const DEFAULT_BACKOFF_JITTER = 0.2;

/**
 * BullMQ job id for an event id. Custom ids may not contain ':' nor be integers, so prefix and
 * percent-escape ':' (and '%', to keep the mapping one-to-one: two event ids never share a job).
 */
export function webhookJobId(eventId: string): string {
  return 'wh_' + eventId.replace(/%/g, '%25').replace(/:/g, '%3A');
}

export function webhookJobOptions(eventId: string, policy: WebhookRetryPolicy): JobsOptions {
  return {
    jobId: webhookJobId(eventId),
    attempts: Math.max(1, Math.floor(policy.maxAttempts)),
    backoff: {
      type: 'exponential',
      delay: policy.backoffMs ?? DEFAULT_BACKOFF_MS,
      jitter: policy.backoffJitter ?? DEFAULT_BACKOFF_JITTER,
    },
    removeOnComplete: { count: policy.keepCompleted ?? 1000 },
    removeOnFail: { count: policy.keepFailed ?? 1000 },
  };
}

/** Redis list of DeadLetterRecord JSON, newest first. Same hash tag as the queue (one Cluster slot). */
export function deadLetterKey(prefix: string): string {
  return `${prefix}:${WEBHOOKS_QUEUE}:dead`;
}

/** The dead-letter list is trimmed to this many records. */
export const DEFAULT_DEAD_LETTER_MAX = 10_000;

/** A delivery that exhausted its attempts (or could never succeed). */
export interface DeadLetterRecord {
  event: DeliverableEvent;
  url: string;
  attempts: number;
  lastError: string;
  /** ISO time of the last failed attempt. */
  failedAt: string;
}
