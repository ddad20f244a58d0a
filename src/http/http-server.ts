import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { errorBody } from '../api/api-error-body.js';
import type { HostPort } from '../config/config-types.js';
import { ErrorCodes } from '../errors/codes.js';
import { RingproofError } from '../errors/ringproof-error.js';
import { renderMetrics, type Metrics } from '../metrics/metrics.js';

/** A named readiness condition; /readyz is 200 only when every check passes. */
export interface ReadinessCheck {
  name: string;
  ready(): boolean;
}

export interface HttpServerDeps {
  metrics: Metrics;
  checks: ReadinessCheck[];
  /** False when /metrics has a listener of its own (metrics.listen): then it is not served here. */
  serveMetrics?: boolean;
}

/** The HTTP listener for operators (metrics, health) and, in API roles, the verification API. */
export function createHttpServer(deps: HttpServerDeps): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024, frameworkErrors: urlError });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const checks: Record<string, boolean> = {};
    let ok = true;
    for (const c of deps.checks) {
      const r = c.ready();
      checks[c.name] = r;
      ok &&= r;
    }
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not_ready', checks });
  });
  if (deps.serveMetrics !== false) metricsRoute(app, deps.metrics);
  return app;
}

/**
 * URLs the router refuses before any route or error handler sees them (bad percent-encoding, a
 * path parameter over 100 characters) get the API's error shape, with a documented status.
 */
function urlError(err: FastifyError, _request: unknown, reply: FastifyReply): void {
  const what = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path parameter is too long' : 'the URL path is not valid percent-encoding';
  void reply.code(400).header('cache-control', 'no-store').send(errorBody(ErrorCodes.API_VALIDATION, what));
}

/** The listener of metrics.listen: GET /metrics and nothing else. */
export function createMetricsServer(metrics: Metrics): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 1024 });
  metricsRoute(app, metrics);
  return app;
}

function metricsRoute(app: FastifyInstance, metrics: Metrics): void {
  app.get('/metrics', async (_req, reply) => {
    const body = await renderMetrics(metrics);
    return reply.header('content-type', metrics.registry.contentType).send(body);
  });
}

/** `key` names the setting in the error when the address cannot be bound. */
export async function listenHttp(app: FastifyInstance, at: HostPort, key = 'http.listen'): Promise<number> {
  try {
    await app.listen({ host: at.host, port: at.port });
  } catch (err) {
    throw new RingproofError(ErrorCodes.LISTEN_FAILED, `${key}: cannot bind ${at.host}:${at.port}: ${(err as Error).message}`, { cause: err });
  }
  const addr = app.server.address();
  return typeof addr === 'object' && addr ? addr.port : at.port;
}
