import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from '../log/logger.js';
import { parseRedisUrl, redactRedisUrl } from './redis-url.js';

export { bullmqPrefix } from './bullmq-prefix.js';

/**
 * What a connection is for; each role gets the options its use needs:
 *
 * - `worker`: BullMQ Worker / QueueEvents / anything issuing blocking commands. BullMQ refuses a
 *   connection whose `maxRetriesPerRequest` is not `null`: a blocking BZPOPMIN must survive a
 *   reconnect instead of failing after N retries. Commands queue while offline (workers just wait).
 * - `producer`: the SIP edge's path to the "calls" queue. `enableOfflineQueue: false` and
 *   `maxRetriesPerRequest: 0` so a dead Redis fails a command at once instead of buffering without
 *   bound in ioredis' memory; the caller (BullmqEventSink) spools to disk instead. A command timeout
 *   bounds the wait on a Redis that accepts connections but does not answer.
 * - `client`: API handlers, rate limits, metrics reads: queue briefly while reconnecting, give up
 *   after a few attempts so an HTTP request fails with an error rather than hanging.
 */
export type RedisRole = 'client' | 'worker' | 'producer';

export interface CreateRedisOptions {
  role: RedisRole;
  /** Do not connect until the first command or an explicit connect(). */
  lazy?: boolean;
  /** Where connection errors are logged (throttled); without it they are swallowed by our listener. */
  logger?: Logger;
}

export type RedisConnection = Redis | Cluster;

/** Reconnect quickly at first, never slower than every 2 s, with jitter so many edges do not stampede. */
export function reconnectDelay(times: number): number {
  return Math.min(50 * 2 ** Math.max(0, times - 1), 2000) + Math.floor(Math.random() * 100);
}

interface RoleOptions {
  maxRetriesPerRequest: number | null;
  enableOfflineQueue: boolean;
  commandTimeout?: number;
}

export function roleOptions(role: RedisRole): RoleOptions {
  switch (role) {
    case 'worker':
      return { maxRetriesPerRequest: null, enableOfflineQueue: true };
    case 'producer':
      return { maxRetriesPerRequest: 0, enableOfflineQueue: false, commandTimeout: 5000 };
    case 'client':
      return { maxRetriesPerRequest: 3, enableOfflineQueue: true };
  }
}

/**
 * Cluster options of connections that wait for Redis rather than fail (role worker): a command sent
 * to a master that died is retried until its replica took over, about 60 s at most. ioredis' default
 * (16 tries 100 ms apart) gives up after 1.6 s, shorter than any failover (cluster-node-timeout is
 * 15 s by default): a worker's "webhook sent" mark or job completion then failed, and the batch ran
 * again on the promoted replica and POSTed its webhooks a second time.
 */
const RIDE_OUT_FAILOVER = Object.freeze({ retryDelayOnFailover: 200, retryDelayOnClusterDown: 200, retryDelayOnTryAgain: 200, maxRedirections: 300 });

/**
 * Build options without connecting: exposed so tests can check what a URL turns into.
 *
 * `protocol: 2`: ioredis 6 speaks RESP3 by default. Under RESP3 a Lua `false` comes back as a
 * boolean (0 with the legacy mapping) where RESP2 gives nil; BullMQ's scripts were written and
 * tested against RESP2 replies, so we keep the v5 wire protocol.
 */
export function buildRedisOptions(url: string, opts: CreateRedisOptions):
  | { kind: 'standalone' | 'sentinel'; options: RedisOptions }
  | { kind: 'cluster'; nodes: Array<{ host: string; port: number }>; options: ClusterOptions } {
  const parsed = parseRedisUrl(url);
  const role = roleOptions(opts.role);
  const common = {
    protocol: 2 as const,
    connectionName: `ringproof-${opts.role}`,
    lazyConnect: opts.lazy === true,
  };
  if (parsed.kind === 'cluster') {
    const options: ClusterOptions = {
      ...parsed.options,
      lazyConnect: common.lazyConnect,
      enableOfflineQueue: role.enableOfflineQueue,
      clusterRetryStrategy: reconnectDelay,
      ...(role.maxRetriesPerRequest === null ? RIDE_OUT_FAILOVER : {}),
      redisOptions: {
        ...parsed.options.redisOptions,
        protocol: common.protocol,
        connectionName: common.connectionName,
        maxRetriesPerRequest: role.maxRetriesPerRequest,
        ...(role.commandTimeout !== undefined ? { commandTimeout: role.commandTimeout } : {}),
      },
    };
    return { kind: 'cluster', nodes: parsed.nodes, options };
  }
  const options: RedisOptions = {
    ...parsed.options,
    ...common,
    retryStrategy: reconnectDelay,
    reconnectOnError: reconnectOnReadonly,
    maxRetriesPerRequest: role.maxRetriesPerRequest,
    enableOfflineQueue: role.enableOfflineQueue,
    ...(role.commandTimeout !== undefined ? { commandTimeout: role.commandTimeout } : {}),
  };
  return { kind: parsed.kind, options };
}

/**
 * A master demoted to replica answers writes with READONLY: reconnect (through Sentinel, to the new
 * master) and resend the command, which the replica did not run.
 */
function reconnectOnReadonly(err: Error): 2 | false {
  return err.message.startsWith('READONLY') ? 2 : false;
}

/**
 * One ioredis connection (standalone, Sentinel, Cluster or unix socket) for the given role.
 * The caller owns it: `quit()` it on shutdown. BullMQ objects given it as `connection` share it
 * and do not close it.
 */
export function createRedis(url: string, opts: CreateRedisOptions): RedisConnection {
  const built = buildRedisOptions(url, opts);
  const conn: RedisConnection = built.kind === 'cluster'
    ? new Cluster(built.nodes, built.options)
    : new Redis(built.options);
  attachErrorLog(conn, redactRedisUrl(url), opts);
  return conn;
}

/** True when commands can be sent now (Cluster reports "connect" before its slots are known). */
export function isRedisReady(conn: RedisConnection): boolean {
  return conn.status === 'ready';
}

/**
 * ioredis emits "error" on every failed reconnect; with no listener Node would print each one. Log
 * the first error of an outage and then at most one line every 10 s.
 */
function attachErrorLog(conn: RedisConnection, safeUrl: string, opts: CreateRedisOptions): void {
  let lastLog = 0;
  let suppressed = 0;
  conn.on('error', (err: Error) => {
    if (!opts.logger) return;
    const now = Date.now();
    if (now - lastLog < 10_000) {
      suppressed++;
      return;
    }
    opts.logger.warn({ redis: safeUrl, role: opts.role, err: err.message, suppressed }, 'redis connection error');
    lastLog = now;
    suppressed = 0;
  });
  conn.on('ready', () => {
    if (lastLog !== 0) opts.logger?.info({ redis: safeUrl, role: opts.role }, 'redis connection ready again');
    lastLog = 0;
    suppressed = 0;
  });
}
