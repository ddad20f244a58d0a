import type { VerificationConfig } from '../config/config-types.js';
import { errorSchema, verificationRouteSchemas, verificationSchema } from './verification-schemas.js';
import { blocklistRouteSchemas, didRouteSchemas } from './admin-schemas.js';

/**
 * The OpenAPI 3.1 document of the API, built from the route schemas. openapi/openapi.json in the
 * repository is this document for the default configuration (a test keeps the two equal); a daemon
 * with other TTL bounds serves its own limits.
 */
export function buildOpenApiDocument(v: VerificationConfig): Record<string, unknown> {
  const s = verificationRouteSchemas(v);
  const idParam = {
    name: 'id',
    in: 'path',
    required: true,
    schema: (s.get.params as { properties: { id: unknown } }).properties.id,
  };
  const idempotencyHeader = {
    name: 'Idempotency-Key',
    in: 'header',
    required: false,
    description: 'Repeating a create with the same key (per API key) returns the first result, with status 200 and Idempotency-Replayed: true',
    schema: (s.create.headers as { properties: Record<string, unknown> }).properties['idempotency-key'],
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'ringproof API',
      version: '1.0.0',
      description:
        'Missed-call phone verification. Authenticate with "Authorization: Bearer <api key>". ' +
        'With no API keys configured the API is open to loopback clients only. Every error has the body ' +
        '{"error": {"code", "message", "field"?}}.',
    },
    security: [{ bearerAuth: [] }],
    paths: {
      '/v1/verifications': {
        post: {
          ...operation(s.create),
          parameters: [idempotencyHeader],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: s.create.body } },
          },
        },
      },
      '/v1/verifications/{id}': {
        get: { ...operation(s.get), parameters: [idParam] },
        delete: { ...operation(s.cancel), parameters: [idParam] },
      },
      '/v1/verifications/{id}/report': {
        post: {
          ...operation(s.report),
          parameters: [idParam],
          requestBody: jsonBody(s.report.body),
        },
      },
      // Admin routes: admin API keys only (an app key gets 403 RP_API_ADMIN_REQUIRED).
      '/v1/blocklist': {
        get: operation(blocklistRouteSchemas.list),
        post: { ...operation(blocklistRouteSchemas.add), requestBody: jsonBody(blocklistRouteSchemas.add.documentedBody) },
      },
      '/v1/blocklist/{kind}/{value}': {
        delete: { ...operation(blocklistRouteSchemas.remove), parameters: pathParameters(blocklistRouteSchemas.remove.params) },
      },
      '/v1/dids': {
        get: operation(didRouteSchemas.list),
        post: { ...operation(didRouteSchemas.add), requestBody: jsonBody(didRouteSchemas.add.body) },
      },
      '/v1/dids/{did}': {
        get: { ...operation(didRouteSchemas.get), parameters: pathParameters(didRouteSchemas.get.params) },
      },
      '/v1/dids/{did}/release': {
        post: { ...operation(didRouteSchemas.release), parameters: pathParameters(didRouteSchemas.release.params), requestBody: jsonBody(didRouteSchemas.release.body, false) },
      },
      '/v1/dids/{did}/unflag': {
        post: { ...operation(didRouteSchemas.unflag), parameters: pathParameters(didRouteSchemas.unflag.params) },
      },
      '/v1/dids/{did}/restore': {
        post: { ...operation(didRouteSchemas.restore), parameters: pathParameters(didRouteSchemas.restore.params), requestBody: jsonBody(didRouteSchemas.restore.body, false) },
      },
    },
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key; the daemon stores only its sha256' },
      },
      schemas: { Verification: verificationSchema, Error: errorSchema },
    },
  };
}

const STATUS_TEXT: Record<string, string> = {
  200: 'OK',
  201: 'Created',
  400: 'Invalid request (the message and field name the input to fix)',
  401: 'Missing, malformed or unknown API key',
  403: 'Not allowed (open mode: client is not on loopback)',
  404: 'No such verification',
  409: 'Idempotency-Key already used for a different phoneNumber or callbackUrl',
  410: 'Gone',
  413: 'Request body too large',
  415: 'Unsupported Content-Type (send application/json)',
  422: 'phoneNumber cannot be normalized to E.164, the number policy refuses it, method flash_call cannot be served, or callerTrustPolicy is looser than the deployment allows (the body names the field)',
  429: 'A creation limit is full (the body names it); retry after Retry-After seconds',
  500: 'Internal error',
};

function jsonBody(schema: unknown, required = true): Record<string, unknown> {
  return { required, content: { 'application/json': { schema } } };
}

/** A route's params schema as OpenAPI path parameters. */
function pathParameters(params: { properties: Record<string, unknown> }): Record<string, unknown>[] {
  return Object.entries(params.properties).map(([name, schema]) => ({ name, in: 'path', required: true, schema }));
}

function operation(schema: Record<string, unknown>): Record<string, unknown> {
  const responses: Record<string, unknown> = {};
  for (const [status, body] of Object.entries(schema.response as Record<string, Record<string, unknown>>)) {
    const { description, ...rest } = body;
    const named = rest.properties === verificationSchema.properties ? { $ref: '#/components/schemas/Verification' }
      : rest.properties === errorSchema.properties ? { $ref: '#/components/schemas/Error' } : rest;
    responses[status] = {
      description: typeof description === 'string' ? description : STATUS_TEXT[status] ?? status,
      content: { 'application/json': { schema: named } },
    };
  }
  return { operationId: schema.operationId, summary: schema.summary, responses };
}
