import { ErrorCodes } from '../errors/codes.js';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { AuditLog } from '../audit/audit-log.js';
import type { RingproofConfig } from '../config/config-types.js';
import type { EventSink } from '../edge/event-sink.js';
import type { CandidateFilter } from '../queue/pending-numbers.js';
import { LogSink } from '../edge/log-sink.js';
import { createHttpServer, createMetricsServer, listenHttp, type ReadinessCheck } from '../http/http-server.js';
import { createMetrics, type Metrics } from '../metrics/metrics.js';
import { QueueDepthProbe } from '../queue/queue-depth-probe.js';
import { createQueueMetrics } from '../queue/queue-metrics.js';
import { CALLS_QUEUE, WEBHOOKS_QUEUE } from '../queue/queue-names.js';
import { bullmqPrefix, createRedis, isRedisReady, type RedisConnection } from '../redis/redis-connection.js';
import { RedisMemoryProbe, registerRedisMemoryMetrics } from '../redis/redis-memory-probe.js';
import { EXPIRY_QUEUE } from '../verify/queue-names.js';
import { createVerifyMetrics } from '../verify/verify-metrics.js';
import { startApiRole, type ApiRole } from './api-role.js';
import { changedKeys, isReloadable } from './config-reload.js';
import { demoWebhookSecret } from './demo-webhook-secret.js';
import { startEdgeAbuse } from './edge-abuse.js';
import { startEdgeRole, type EdgeRole } from './edge-role.js';
import { createQueueSink } from './edge-sink.js';
import { resolveRedis, type RedisEndpoint } from './redis-setup.js';
import { lockStateDir } from './state-dir-lock.js';
import { startWorkerRole, type WorkerRole } from './worker-role.js';
import { startWorkerThread } from './worker-thread-host.js';
import { keepStringPrototypeFast } from '../v8/fast-string-prototype.js';
import { sipTotals } from '../metrics/sip-totals.js';

export interface DaemonOptions {
  /** Overrides the event sink (tests). */
  sink?: EventSink;
  /**
   * Told when a part running beside the main thread dies (the workers' thread of
   * pipeline.workerThread). Default: rethrown as an uncaught exception, which the serve command
   * answers with a shutdown.
   */
  onFatal?: (err: Error) => void;
}

const rethrow = (err: Error): void => {
  throw err;
};

/** How a stop ended. */
export interface StopOutcome {
  /**
   * The embedded redis-server exited by itself during the shutdown (the whole process group was
   * signalled): it was not restarted, call events not yet in Redis went to the disk spool (replayed
   * at the next start), and work that needed Redis was abandoned (BullMQ hands it out again).
   */
  redisLost: boolean;
}

export interface Daemon {
  readonly metrics: Metrics;
  readonly http: FastifyInstance;
  readonly httpPort: number;
  /** The port of metrics.listen, when /metrics has a listener of its own. */
  readonly metricsPort: number | undefined;
  sipPorts(): { udp: number[]; tcp: number[] };
  /** Graceful: readiness false, SIP stops taking work, sinks flush, workers finish; bounded by the caller. */
  stop(): Promise<StopOutcome>;
  /**
   * Puts the reloadable keys of `next` (RELOADABLE_KEYS) in force without stopping anything, and
   * reports what changed. All or nothing: when a part refuses the new settings it throws, and the
   * configuration in force stays the old one.
   */
  reload(next: RingproofConfig): ReloadResult;
}

export interface ReloadResult {
  /** Keys whose new values are now in force. */
  applied: string[];
  /** Keys that changed but keep their old values until a restart. */
  restartNeeded: string[];
}

/**
 * One part to stop. `needsRedis`: its stop waits on Redis, so it is abandoned once the embedded
 * Redis is gone during the shutdown (`abandon` then drops what would wait forever).
 */
interface Stopper {
  name: string;
  stop: () => Promise<void>;
  needsRedis?: boolean;
  abandon?: () => void;
  /**
   * The share of shutdownGraceSeconds its stop may take; past it the part is abandoned so the
   * daemon still exits within the grace period (the workers: their jobs in flight stay active in
   * Redis and BullMQ's stalled-job check hands them out again, as after a killed worker).
   */
  graceShare?: number;
}

/** Of the grace period, what the workers may spend finishing jobs; the rest is for the parts after them. */
const WORKERS_GRACE_SHARE = 2 / 3;

/** Resolves true when `p` settles within `ms`, false when the time is up first (p still runs). */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<false>((res) => { timer = setTimeout(() => res(false), Math.max(0, ms)); });
  try {
    return await Promise.race([p.then(() => true, () => true), timeUp]);
  } finally {
    clearTimeout(timer);
  }
}

const runs = (c: RingproofConfig, role: 'edge' | 'worker' | 'api'): boolean => c.role === 'all' || c.role === role;

/** Starts every part the configured role needs, in dependency order, and returns a handle to stop it. */
export async function startDaemon(config: RingproofConfig, logger: Logger, opts: DaemonOptions = {}): Promise<Daemon> {
  // ioredis subclasses String, which drops String.prototype into V8's slow mode for the whole process
  // (every charCodeAt/indexOf then takes a generic lookup): switch it back once, for every role. The
  // only call in the daemon: the SIP parsers and the edge's CLI/DID extraction rely on it.
  keepStringPrototypeFast();
  const metrics = createMetrics();
  const checks: ReadinessCheck[] = [];
  // Stopped in reverse order of start.
  const stoppers: Stopper[] = [];
  let stopping = false;
  checks.push({ name: 'running', ready: () => !stopping });
  const http = createHttpServer({ metrics, checks, serveMetrics: config.metrics.listen === undefined });
  const metricsHttp = config.metrics.listen ? createMetricsServer(metrics) : undefined;

  const edgeQueued = runs(config, 'edge') && config.events.sink === 'queue' && opts.sink === undefined;
  const needsRedis = edgeQueued || runs(config, 'worker') || runs(config, 'api');
  let edgeRole: EdgeRole | undefined;
  let edgeAbuse: ReturnType<typeof startEdgeAbuse> | undefined;
  let apiRole: ApiRole | undefined;
  let workerRole: WorkerRole | undefined;
  let inForce = config;
  /** Stops every part, last started first; once `redisGone` settles, parts that need Redis are abandoned. */
  const stopAll = async (redisGone?: Promise<void>): Promise<void> => {
    let lost = false;
    void redisGone?.then(() => { lost = true; });
    const began = Date.now();
    for (const s of [...stoppers].reverse()) {
      if (s.needsRedis && lost) {
        s.abandon?.();
        continue;
      }
      logger.debug({ part: s.name }, 'stopping');
      try {
        const stopped = s.stop();
        if (s.graceShare !== undefined) {
          stopped.catch(() => undefined);
          const budgetMs = config.shutdownGraceSeconds * 1000 * s.graceShare - (Date.now() - began);
          if (!(await settlesWithin(redisGone ? Promise.race([stopped, redisGone]) : stopped, budgetMs))) {
            logger.warn({ part: s.name, code: ErrorCodes.SHUTDOWN_PART_ABANDONED, waitedMs: Date.now() - began },
              'not stopped within its share of the grace period: abandoned (jobs in flight are handed out again after a restart)');
            s.abandon?.();
          } else if (lost) s.abandon?.();
        } else if (s.needsRedis && redisGone) {
          stopped.catch(() => undefined);
          await Promise.race([stopped, redisGone]);
          if (lost) s.abandon?.();
        } else {
          await stopped;
        }
      } catch (err) {
        logger.error({ err, part: s.name }, 'error while stopping');
      }
    }
    stoppers.length = 0;
  };

  try {
    let endpoint: RedisEndpoint | undefined;
    let shared: RedisConnection | undefined;
    let memory: RedisMemoryProbe | undefined;
    const prefix = bullmqPrefix(config.redis.keyPrefix);
    const queueMetrics = needsRedis ? createQueueMetrics(metrics.registry) : undefined;
    if (needsRedis) {
      // The embedded redis-server and the edge's spool live in stateDir: one owner at a time.
      if (config.redis.url === undefined || edgeQueued) {
        const unlock = lockStateDir(config.stateDir);
        stoppers.push({ name: 'state-dir-lock', stop: async () => unlock() });
      }
      endpoint = await resolveRedis(config, logger);
      stoppers.push({ name: 'redis', stop: () => (endpoint as RedisEndpoint).stop() });
      // Workers and the API share one connection that waits out Redis outages instead of failing jobs.
      const conn = createRedis(endpoint.url, { role: 'worker', logger });
      shared = conn;
      stoppers.push({
        name: 'redis-connection',
        stop: async () => { await conn.quit().catch(() => conn.disconnect()); },
        needsRedis: true,
        abandon: () => conn.disconnect(),
      });
      checks.push({ name: 'redis', ready: () => isRedisReady(conn) });
      const probe = new QueueDepthProbe({ connection: conn, prefix, queues: [CALLS_QUEUE, WEBHOOKS_QUEUE, EXPIRY_QUEUE] });
      queueMetrics?.watchQueues(probe);
      stoppers.push({ name: 'queue-probe', stop: () => probe.close(), needsRedis: true });
      const mem = new RedisMemoryProbe({ connection: conn });
      memory = mem;
      registerRedisMemoryMetrics(metrics.registry, mem);
      stoppers.push({ name: 'redis-memory-probe', stop: async () => mem.close(), needsRedis: true });
    }

    const verifyMetrics = shared ? createVerifyMetrics(metrics.registry) : undefined;
    const audit = shared ? new AuditLog({ redis: shared, prefix, settings: config.audit }) : undefined;

    if (runs(config, 'worker') && shared && verifyMetrics && audit) {
      const secrets = config.webhooks.secrets.length > 0 ? config.webhooks.secrets : [demoWebhookSecret(config.stateDir, logger)];
      if (config.role === 'all' && config.pipeline.workerThread && endpoint) {
        // The workers get a thread, a Redis connection and a registry of their own; the edge keeps this thread.
        const thread = await startWorkerThread({ config, redisUrl: endpoint.url, webhookSecrets: secrets }, logger, opts.onFatal ?? rethrow);
        metrics.remoteSources.push(thread.metrics);
        workerRole = thread;
        stoppers.push({ name: 'workers', stop: thread.stop, needsRedis: true, graceShare: WORKERS_GRACE_SHARE, abandon: thread.abandon });
      } else {
        workerRole = await startWorkerRole(config, { connection: shared, prefix, registry: metrics.registry, verifyMetrics, audit, logger, webhookSecrets: secrets });
        stoppers.push({ name: 'workers', stop: workerRole.stop, needsRedis: true, graceShare: WORKERS_GRACE_SHARE });
      }
    }
    if (runs(config, 'api') && shared && verifyMetrics && audit && memory) {
      apiRole = await startApiRole(http, config, { connection: shared, prefix, registry: metrics.registry, verifyMetrics, audit, logger, memory });
      stoppers.push({ name: 'api', stop: (apiRole as ApiRole).stop, needsRedis: true });
    }
    if (runs(config, 'edge')) {
      let sink: EventSink;
      let candidates: CandidateFilter | undefined;
      if (opts.sink) sink = opts.sink;
      else if (edgeQueued && endpoint && queueMetrics && memory) {
        const queued = createQueueSink(config, endpoint.url, queueMetrics, logger, memory, verifyMetrics?.callOutcomes);
        candidates = queued.candidates;
        sink = queued;
      } else sink = new LogSink(logger);
      // The sink must flush after the engine stops handing it events, so it is stopped later.
      stoppers.push({ name: 'event-sink', stop: () => sink.close() });
      // The blocklist copy and the hammering detector follow Redis; no Redis, neither.
      const abuse = edgeQueued && shared && endpoint
        ? startEdgeAbuse(config, endpoint.url, shared, prefix, metrics.registry, logger, candidates)
        : undefined;
      if (abuse) stoppers.push({ name: 'edge-abuse', stop: abuse.stop, needsRedis: true });
      edgeAbuse = abuse;
      edgeRole = await startEdgeRole(config, metrics, logger, sink, abuse?.edge);
      const engine = edgeRole.engine;
      checks.push({ name: 'sip', ready: () => engine.ready });
      // The spool covers Redis outages, so the edge stays ready while it can spool: readiness
      // here only reflects the SIP side; /readyz "redis" tells the rest.
      const closeEdge = edgeRole.close;
      stoppers.push({
        name: 'sip',
        stop: async () => {
          try {
            await engine.stop(config.shutdownGraceSeconds * 1000);
          } finally {
            closeEdge();
          }
          // The lifetime totals, once nothing more comes in: every INVITE taken was answered.
          logger.info({ sip: await sipTotals(metrics) }, 'SIP engine stopped');
        },
      });
    }
    const redisEndpoint = endpoint;
    const httpPort = await listenHttp(http, config.http.listen);
    logger.info({ http: `${config.http.listen.host}:${httpPort}`, role: config.role }, 'HTTP listening');
    let metricsPort: number | undefined;
    if (metricsHttp && config.metrics.listen) {
      metricsPort = await listenHttp(metricsHttp, config.metrics.listen, 'metrics.listen');
      logger.info({ metrics: `${config.metrics.listen.host}:${metricsPort}` }, 'metrics listening');
    }
    const role = edgeRole;
    return {
      metrics,
      http,
      httpPort,
      metricsPort,
      sipPorts: () => role?.sipPorts() ?? { udp: [], tcp: [] },
      reload(next) {
        // Every part compiles the new settings first (any may throw), then all switch at once:
        // nothing changes unless everything can.
        const abuse = edgeAbuse;
        const commits = [
          role?.prepareReload(next), apiRole?.prepareReload(next), workerRole?.prepareReload(next), abuse && (() => abuse.reload(next)),
        ];
        for (const commit of commits) commit?.();
        logger.level = next.log.level;
        const result = {
          applied: changedKeys(inForce, next).filter(isReloadable),
          // Compared with the start-up settings: those are the ones still in force for these keys.
          restartNeeded: changedKeys(config, next).filter((k) => !isReloadable(k)),
        };
        inForce = next;
        return result;
      },
      async stop() {
        if (stopping) return { redisLost: false };
        stopping = true;
        // From here on the embedded Redis is never restarted. If it exits by itself (the process
        // manager signalled the whole group), waiting on Redis ends: events still in the edge's
        // buffer go to the spool, and the rest is abandoned so the process exits promptly.
        const embedded = redisEndpoint?.embedded;
        let redisLost = false;
        let redisGone: Promise<void> | undefined;
        if (embedded) {
          redisGone = embedded.beginShutdown()
            ? new Promise<void>((res) => embedded.once('exitDuringShutdown', () => res()))
            : Promise.resolve();
          void redisGone.then(() => { redisLost = true; });
        }
        await stopAll(redisGone);
        await http.close();
        await metricsHttp?.close();
        return { redisLost };
      },
    };
  } catch (err) {
    stopping = true;
    await stopAll();
    await http.close().catch(() => undefined);
    await metricsHttp?.close().catch(() => undefined);
    throw err;
  }
}
