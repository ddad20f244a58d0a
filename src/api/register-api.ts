import type { FastifyInstance, FastifyRequest } from 'fastify';
import { egressMetrics } from '../egress/egress-metrics.js';
import { ErrorCodes } from '../errors/codes.js';
import { webhookEgressPolicy } from '../webhooks/webhook-egress.js';
import { errorBody } from './api-error-body.js';
import { sendError, toErrorReply } from './api-error-handler.js';
import { ApiAuthenticator, type ApiPrincipal } from './api-authenticator.js';
import type { ApiDeps } from './api-deps.js';
import { apiMetrics, UNMATCHED_ROUTE, type ApiMetrics } from './api-metrics.js';
import { blocklistRoutes } from './blocklist-routes.js';
import { didRoutes } from './did-routes.js';
import { buildOpenApiDocument } from './openapi-document.js';
import { verificationRoutes } from './verification-routes.js';

export type { ApiDeps };

/**
 * Mounts the HTTP API on the daemon's fastify instance: /v1/* (authenticated) and /openapi.json
 * (public). Both live in their own encapsulated scopes, so the error and not-found handlers and hooks
 * set here touch nothing else (/metrics, /healthz, /readyz stay the host's).
 */
export async function registerApi(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const auth = new ApiAuthenticator(deps.config.api.keys);
  if (auth.open) deps.logger.warn('no API keys configured: API accepts loopback clients only');
  const metrics = apiMetrics(deps.registry);
  const openapiText = `${JSON.stringify(buildOpenApiDocument(deps.config.verification), null, 2)}\n`;
  const principals = new WeakMap<FastifyRequest, ApiPrincipal>();

  await app.register(async (scope) => {
    instrument(scope, metrics, deps);
    scope.get('/openapi.json', async (_request, reply) => reply.type('application/json; charset=utf-8').send(openapiText));
  });

  await app.register(async (scope) => {
    instrument(scope, metrics, deps);
    scope.addHook('onRequest', async (request, reply) => {
      const decision = auth.authenticate({
        authorization: request.headers.authorization,
        ip: request.ip,
        peer: request.socket.remoteAddress,
      });
      if (decision.ok) {
        principals.set(request, decision.principal);
        return;
      }
      if (decision.wwwAuthenticate) reply.header('www-authenticate', decision.wwwAuthenticate);
      return sendError(reply, { status: decision.status, body: errorBody(decision.code, decision.message) });
    });
    // Responses carry phone numbers: no cache may keep them.
    scope.addHook('onSend', async (_request, reply, payload) => {
      reply.header('cache-control', 'no-store');
      return payload;
    });
    scope.setNotFoundHandler(async (request, reply) =>
      sendError(reply, { status: 404, body: errorBody(ErrorCodes.API_NOT_FOUND, `no route ${request.method} ${request.url.split('?')[0]}`) }));
    const principalOf = (request: FastifyRequest): ApiPrincipal => {
      const p = principals.get(request);
      if (!p) throw new Error('request reached a route without passing authentication');
      return p;
    };
    if (deps.blocklist !== undefined) await scope.register(blocklistRoutes, { store: deps.blocklist, logger: deps.logger, principalOf });
    if (deps.didPool !== undefined) await scope.register(didRoutes, { pool: deps.didPool, logger: deps.logger, principalOf });
    await scope.register(verificationRoutes, {
      store: deps.store,
      creationChecks: deps.creationChecks,
      verification: deps.config.verification,
      trust: deps.config.trust,
      outbound: deps.config.outbound,
      flashReports: deps.flashReports,
      logger: deps.logger,
      callbackUrls: { policy: webhookEgressPolicy(deps.config.webhooks), onRefused: egressMetrics(deps.registry).counter('webhook', 'create') },
      principalOf,
    });
  }, { prefix: '/v1' });
}

function instrument(scope: FastifyInstance, metrics: ApiMetrics, deps: ApiDeps): void {
  scope.setErrorHandler(async (err, request, reply) => sendError(reply, toErrorReply(err, deps.logger), request));
  scope.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    metrics.requests.inc({ route, status: String(reply.statusCode) });
    metrics.duration.observe({ route }, reply.elapsedTime / 1000);
  });
}
