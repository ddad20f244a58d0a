import { Queue } from 'bullmq';
import type { WebhookRedis } from './webhook-connection.js';
import {
  deadLetterKey,
  webhookJobId,
  webhookJobOptions,
  type DeadLetterRecord,
  type WebhookJobData,
  type WebhookRetryPolicy,
} from './webhook-job.js';
import { WEBHOOKS_QUEUE } from '../queue/queue-names.js';

/**
 * The dead-letter list: webhooks that exhausted their attempts, newest first, bounded. These plain
 * functions back `ringproof webhooks dead-letters list|replay|purge` and the worker's writes.
 */

export interface DeadLetterEntry {
  /** Position in the list (0 = newest), as `replay <index>` takes it. */
  index: number;
  /** Null when the stored JSON cannot be read (kept visible so ops can purge it). */
  record: DeadLetterRecord | null;
  raw: string;
}

export interface ReplayResult {
  /** Event ids re-enqueued with a fresh attempt budget. */
  replayed: string[];
  /** Entries left alone or dropped, and why. */
  skipped: Array<{ index: number; eventId: string | null; reason: 'in-flight' | 'already-queued' | 'unreadable' | 'not-found' }>;
}

function parse(raw: string): DeadLetterRecord | null {
  try {
    const r = JSON.parse(raw) as Partial<DeadLetterRecord>;
    if (r && typeof r.url === 'string' && r.event && typeof r.event.id === 'string') return r as DeadLetterRecord;
  } catch {
    // fall through
  }
  return null;
}

export async function pushDeadLetter(redis: WebhookRedis, prefix: string, record: DeadLetterRecord, max: number): Promise<void> {
  const key = deadLetterKey(prefix);
  // MULTI keeps push and trim together; both keys share the prefix's hash tag, so Cluster accepts it.
  const res = await redis.multi().lpush(key, JSON.stringify(record)).ltrim(key, 0, Math.max(1, max) - 1).exec();
  const failed = res?.find(([err]) => err);
  if (failed?.[0]) throw failed[0];
}

export async function countDeadLetters(redis: WebhookRedis, prefix: string): Promise<number> {
  return redis.llen(deadLetterKey(prefix));
}

/** The newest `limit` records. */
export async function listDeadLetters(redis: WebhookRedis, prefix: string, limit = 50): Promise<DeadLetterEntry[]> {
  if (limit <= 0) return [];
  const raws = await redis.lrange(deadLetterKey(prefix), 0, limit - 1);
  return raws.map((raw, index) => ({ index, record: parse(raw), raw }));
}

/** Deletes every record; returns how many there were. */
export async function purgeDeadLetters(redis: WebhookRedis, prefix: string): Promise<number> {
  const key = deadLetterKey(prefix);
  const res = await redis.multi().llen(key).del(key).exec();
  const n = res?.[0]?.[1];
  return typeof n === 'number' ? n : 0;
}

/**
 * Re-enqueues one record (by list index) or all of them, oldest first, with a fresh attempt budget
 * and the SAME event id, so receivers that saw an earlier attempt dedupe it. A replayed record leaves
 * the list; if it fails again the worker writes a new one. Entries are removed by value, not index,
 * so records pushed meanwhile by workers do not shift what gets deleted.
 */
export async function replayDeadLetters(
  redis: WebhookRedis,
  prefix: string,
  target: number | 'all',
  policy: WebhookRetryPolicy,
): Promise<ReplayResult> {
  const key = deadLetterKey(prefix);
  const result: ReplayResult = { replayed: [], skipped: [] };
  let entries: Array<{ index: number; raw: string }>;
  if (target === 'all') {
    const raws = await redis.lrange(key, 0, -1);
    entries = raws.map((raw, index) => ({ index, raw })).reverse();
  } else {
    const raw = await redis.lindex(key, target);
    if (raw === null) {
      result.skipped.push({ index: target, eventId: null, reason: 'not-found' });
      return result;
    }
    entries = [{ index: target, raw }];
  }
  if (entries.length === 0) return result;

  const queue = new Queue<WebhookJobData>(WEBHOOKS_QUEUE, { connection: redis, prefix });
  queue.on('error', () => undefined); // errors surface through the awaited calls below
  try {
    for (const { index, raw } of entries) {
      const record = parse(raw);
      if (!record) {
        result.skipped.push({ index, eventId: null, reason: 'unreadable' });
        continue;
      }
      const eventId = record.event.id;
      // A job with this id may still exist (kept in the failed set, or re-emitted since). BullMQ
      // ignores an add with an existing id, so clear finished ones and leave live ones be.
      const existing = await queue.getJob(webhookJobId(eventId));
      if (existing) {
        const state = await existing.getState();
        if (state === 'active') {
          // Possibly the very attempt that wrote this record, not yet marked failed: keep the record.
          result.skipped.push({ index, eventId, reason: 'in-flight' });
          continue;
        }
        if (state === 'completed' || state === 'failed') {
          await existing.remove();
        } else {
          await redis.lrem(key, 1, raw);
          result.skipped.push({ index, eventId, reason: 'already-queued' });
          continue;
        }
      }
      await queue.add(record.event.type, { event: record.event, url: record.url }, webhookJobOptions(eventId, policy));
      await redis.lrem(key, 1, raw);
      result.replayed.push(eventId);
    }
  } finally {
    await queue.close();
  }
  return result;
}
