import { afterAll, afterEach, beforeAll } from 'vitest';
import { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { startTestRedis, stopAndClean, type TestRedis } from './redis-server.js';
import type { WebhookEvent } from '../../src/verify/verification-types.js';

/** What the webhook test files share: one real Redis for the file, an admin client, per-test clean-ups. */
export interface WebhookTestRedis {
  readonly redis: TestRedis;
  readonly admin: Redis;
  /** Run in reverse order after each test. */
  readonly cleanups: Array<() => Promise<void> | void>;
}

/** Registers the file's hooks (call at module level): a Redis started once, clean-ups after each test. */
export function useWebhookTestRedis(): WebhookTestRedis {
  let redis: TestRedis | undefined;
  let admin: Redis | undefined;
  const cleanups: Array<() => Promise<void> | void> = [];
  beforeAll(async () => {
    redis = await startTestRedis({ appendonly: false });
    admin = new Redis(redis.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    if (redis) await stopAndClean(redis);
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return {
    get redis() { return redis as TestRedis; },
    get admin() { return admin as Redis; },
    cleanups,
  };
}

let seq = 0;

/** A verification.verified event with a unique id; `callReceivedAt` when the INVITE time matters. */
export function testWebhookEvent(over: Partial<WebhookEvent> = {}, callReceivedAt?: number): WebhookEvent {
  seq++;
  return {
    id: `evt_${Date.now()}_${seq}`,
    type: 'verification.verified',
    timestamp: new Date().toISOString(),
    data: {
      verification: {
        id: `ver_${seq}`, status: 'verified', phoneNumber: '+447700900123', callTo: '+441632960001',
        createdAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 120_000).toISOString(),
        ...(callReceivedAt === undefined ? {} : { callReceivedAt }),
      },
    },
    ...over,
  };
}

/** The sum of a metric's samples whose labels include `labels` (0 when the metric is not registered). */
export async function registryValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) return 0;
  const data = await m.get();
  return data.values.filter((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v)).reduce((a, x) => a + x.value, 0);
}

/** Polls `cond` every 25 ms until true; throws naming `what` after timeoutMs. */
export async function pollUntil(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
