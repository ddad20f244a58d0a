import { Redis, type Cluster, type RedisOptions } from 'ioredis';

/** What callers hand us: a live ioredis client (standalone or Cluster), or options to make one. */
export type WebhookRedis = Redis | Cluster;
export type WebhookConnection = WebhookRedis | RedisOptions;

function isClient(c: WebhookConnection): c is WebhookRedis {
  return typeof (c as { duplicate?: unknown }).duplicate === 'function';
}

/**
 * Resolves a connection to a client. Options get a client we own (and must quit); workers need
 * `maxRetriesPerRequest: null` so BullMQ's blocking calls wait out Redis outages instead of failing.
 */
export function resolveConnection(c: WebhookConnection, forWorker: boolean): { client: WebhookRedis; owned: boolean } {
  if (isClient(c)) return { client: c, owned: false };
  const opts: RedisOptions = forWorker ? { ...c, maxRetriesPerRequest: null } : { ...c };
  return { client: new Redis(opts), owned: true };
}
