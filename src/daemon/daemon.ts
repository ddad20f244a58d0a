import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { RingproofConfig } from '../config/config-types.js';
import type { EventSink } from '../edge/event-sink.js';
import { LogSink } from '../edge/log-sink.js';
import { createHttpServer, listenHttp, type ReadinessCheck } from '../http/http-server.js';
import { createMetrics, type Metrics } from '../metrics/metrics.js';
import { startEdgeRole, type EdgeRole } from './edge-role.js';

export interface DaemonOptions {
  /** Overrides the event sink (tests); by default a log-only sink. */
  sink?: EventSink;
}

export interface Daemon {
  readonly metrics: Metrics;
  readonly http: FastifyInstance;
  readonly httpPort: number;
  sipPorts(): { udp: number[]; tcp: number[] };
  /** Graceful: readiness false, SIP stops taking work, sinks flush; bounded by shutdownGraceSeconds. */
  stop(): Promise<void>;
}

const hasEdge = (c: RingproofConfig): boolean => c.role === 'all' || c.role === 'edge';

/** Starts every part the configured role needs, in dependency order, and returns a handle to stop it. */
export async function startDaemon(config: RingproofConfig, logger: Logger, opts: DaemonOptions = {}): Promise<Daemon> {
  const metrics = createMetrics();
  const checks: ReadinessCheck[] = [];
  const stoppers: Array<() => Promise<void>> = [];
  let edgeRole: EdgeRole | undefined;
  let stopping = false;
  checks.push({ name: 'running', ready: () => !stopping });
  const http = createHttpServer({ metrics, checks });

  try {
    if (hasEdge(config)) {
      const sink = opts.sink ?? new LogSink(logger);
      edgeRole = await startEdgeRole(config, metrics, logger, sink);
      const engine = edgeRole.engine;
      checks.push({ name: 'sip', ready: () => engine.ready }, { name: 'events', ready: () => sink.ready });
      stoppers.push(async () => {
        await engine.stop(config.shutdownGraceSeconds * 1000);
        await sink.close();
      });
    }
    const httpPort = await listenHttp(http, config.http.listen);
    logger.info({ http: `${config.http.listen.host}:${httpPort}`, role: config.role }, 'HTTP listening (/metrics, /healthz, /readyz)');
    const role = edgeRole;
    return {
      metrics,
      http,
      httpPort,
      sipPorts: () => role?.sipPorts() ?? { udp: [], tcp: [] },
      async stop() {
        if (stopping) return;
        stopping = true;
        for (const s of stoppers.reverse()) {
          try {
            await s();
          } catch (err) {
            logger.error({ err }, 'error while stopping');
          }
        }
        await http.close();
      },
    };
  } catch (err) {
    for (const s of stoppers.reverse()) await s().catch(() => undefined);
    await http.close().catch(() => undefined);
    throw err;
  }
}
