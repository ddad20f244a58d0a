// The workers' thread of role all with pipeline.workerThread (started by worker-thread-host.ts): the
// worker role on its own Redis connection and metrics registry, so the SIP edge keeps the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { Registry } from 'prom-client';
import { AuditLog } from '../audit/audit-log.js';
import { createLogger } from '../log/logger.js';
import { bullmqPrefix, createRedis } from '../redis/redis-connection.js';
import { keepStringPrototypeFast } from '../v8/fast-string-prototype.js';
import { createVerifyMetrics } from '../verify/verify-metrics.js';
import { startWorkerRole } from './worker-role.js';
import type { FromWorkerThread, ToWorkerThread, WorkerThreadData } from './worker-thread-messages.js';

const port = parentPort;
if (port === null) throw new Error('worker-thread.js runs only as a worker thread');
const post = (m: FromWorkerThread): void => port.postMessage(m);
const { config, redisUrl, webhookSecrets } = workerData as WorkerThreadData;

// ioredis subclasses String: as in the main thread (see daemon.ts), once per isolate.
keepStringPrototypeFast();
const logger = createLogger({ level: config.log.level }).child({ thread: 'workers' });
const registry = new Registry();
const connection = createRedis(redisUrl, { role: 'worker', logger });
const prefix = bullmqPrefix(config.redis.keyPrefix);

try {
  const role = await startWorkerRole(config, {
    connection,
    prefix,
    registry,
    verifyMetrics: createVerifyMetrics(registry),
    audit: new AuditLog({ redis: connection, prefix, settings: config.audit }),
    logger,
    webhookSecrets,
  });
  port.on('message', (m: ToWorkerThread) => {
    switch (m.kind) {
      case 'metrics':
        void registry.getMetricsAsJSON().then((metrics) => post({ kind: 'metrics', id: m.id, metrics }), (err: unknown) => {
          logger.warn({ err }, 'workers thread: metrics not collected');
          post({ kind: 'metrics', id: m.id });
        });
        return;
      case 'reload':
        // The main thread validated the configuration and put it in force; call limits are all the
        // worker role reloads. Should they refuse, the old ones stay (and the thread lives on).
        try {
          role.prepareReload(m.config)();
        } catch (err) {
          logger.error({ err }, 'workers thread: reloaded call limits refused; the previous ones stay in force');
        }
        return;
      case 'stop':
        void (async () => {
          await role.stop();
          await connection.quit().catch(() => connection.disconnect());
          post({ kind: 'stopped' });
          port.close();
        })();
        return;
    }
  });
  post({ kind: 'ready' });
} catch (err) {
  connection.disconnect();
  post({ kind: 'failed', message: err instanceof Error ? err.message : String(err) });
  port.close();
}
