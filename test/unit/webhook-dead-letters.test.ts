import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';
import {
  countDeadLetters,
  listDeadLetters,
  purgeDeadLetters,
  pushDeadLetter,
  replayDeadLetters,
} from '../../src/webhooks/dead-letters.js';
import { WebhookQueue } from '../../src/webhooks/webhook-queue.js';
import { deadLetterKey, webhookJobId, type DeadLetterRecord } from '../../src/webhooks/webhook-job.js';

let redis: TestRedis;
let r: Redis;
let n = 0;

beforeAll(async () => {
  redis = await startTestRedis({ appendonly: false });
  r = new Redis(redis.url);
});
afterAll(async () => {
  r.disconnect();
  await stopAndClean(redis);
});

function record(id: string): DeadLetterRecord {
  return {
    event: {
      id,
      type: 'verification.expired',
      timestamp: new Date().toISOString(),
      data: {
        verification: {
          id: 'ver_' + id, status: 'expired', phoneNumber: '+15005550006', callTo: '+15005550001',
          createdAt: new Date().toISOString(), expiresAt: new Date().toISOString(),
        },
        fallback: { suggested: 'sms', reason: 'no call received' },
      },
    },
    url: 'http://127.0.0.1:9/hook',
    attempts: 8,
    lastError: 'HTTP 500',
    failedAt: new Date().toISOString(),
  };
}

const prefixOf = (): string => `{dl${n++}}`;

/** Job ids and states in the webhooks queue of a prefix. */
async function queued(prefix: string): Promise<Array<{ id: string; state: string; attempts: number | undefined }>> {
  const q = new WebhookQueue({ connection: r, prefix, maxAttempts: 1 });
  try {
    const jobs = await q.queue.getJobs(['wait', 'delayed', 'active', 'failed', 'completed']);
    return Promise.all(jobs.map(async (j) => ({ id: j.id!, state: await j.getState(), attempts: j.opts.attempts })));
  } finally {
    await q.close();
  }
}

describe('webhook dead letters', () => {
  it('push keeps newest first and trims to the bound; list and count read it', async () => {
    const prefix = prefixOf();
    for (let i = 0; i < 7; i++) await pushDeadLetter(r, prefix, record(`e${i}`), 5);
    expect(await countDeadLetters(r, prefix)).toBe(5);
    const all = await listDeadLetters(r, prefix, 100);
    expect(all.map((e) => e.record?.event.id)).toEqual(['e6', 'e5', 'e4', 'e3', 'e2']);
    expect(all.map((e) => e.index)).toEqual([0, 1, 2, 3, 4]);
    expect((await listDeadLetters(r, prefix, 2)).map((e) => e.record?.event.id)).toEqual(['e6', 'e5']);
    expect(await listDeadLetters(r, prefix, 0)).toEqual([]);
    expect(await r.exists(deadLetterKey(prefix))).toBe(1);
    expect(deadLetterKey('{ringproof}')).toBe('{ringproof}:webhooks:dead');
  });

  it('purge empties the list and says how many it removed', async () => {
    const prefix = prefixOf();
    for (let i = 0; i < 3; i++) await pushDeadLetter(r, prefix, record(`p${i}`), 100);
    expect(await purgeDeadLetters(r, prefix)).toBe(3);
    expect(await countDeadLetters(r, prefix)).toBe(0);
    expect(await purgeDeadLetters(r, prefix)).toBe(0);
  });

  it('replay all re-enqueues oldest first with the new attempt budget and empties the list', async () => {
    const prefix = prefixOf();
    for (const id of ['a', 'b:c', 'd']) await pushDeadLetter(r, prefix, record(id), 100);
    await r.lpush(deadLetterKey(prefix), 'not json');
    const res = await replayDeadLetters(r, prefix, 'all', { maxAttempts: 4, backoffMs: 10 });
    expect(res.replayed).toEqual(['a', 'b:c', 'd']);
    expect(res.skipped).toEqual([{ index: 0, eventId: null, reason: 'unreadable' }]);
    // The unreadable entry stays visible (for purge); the replayed ones are gone.
    const left = await listDeadLetters(r, prefix);
    expect(left).toEqual([{ index: 0, record: null, raw: 'not json' }]);
    const jobs = await queued(prefix);
    expect(jobs.map((j) => j.id).sort()).toEqual(['a', 'b:c', 'd'].map(webhookJobId).sort());
    expect(jobs.every((j) => j.state === 'waiting' && j.attempts === 4)).toBe(true);
  });

  it('replay of an event already waiting in the queue drops the record without a duplicate job', async () => {
    const prefix = prefixOf();
    const rec = record('dup');
    const q = new WebhookQueue({ connection: r, prefix, maxAttempts: 3 });
    await q.emit(rec.event, rec.url);
    await q.close();
    await pushDeadLetter(r, prefix, rec, 100);
    const res = await replayDeadLetters(r, prefix, 0, { maxAttempts: 3 });
    expect(res).toEqual({ replayed: [], skipped: [{ index: 0, eventId: 'dup', reason: 'already-queued' }] });
    expect(await countDeadLetters(r, prefix)).toBe(0);
    expect(await queued(prefix)).toHaveLength(1);
  });

  it('replay of a missing index reports not-found and changes nothing', async () => {
    const prefix = prefixOf();
    await pushDeadLetter(r, prefix, record('only'), 100);
    const res = await replayDeadLetters(r, prefix, 5, { maxAttempts: 3 });
    expect(res).toEqual({ replayed: [], skipped: [{ index: 5, eventId: null, reason: 'not-found' }] });
    expect(await countDeadLetters(r, prefix)).toBe(1);
    expect(await queued(prefix)).toHaveLength(0);
  });
});
