import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes } from '../errors/codes.js';
import { isRingproofError } from '../errors/ringproof-error.js';
import type { Logger } from '../log/logger.js';
import { errorBody, type ApiErrorBody } from './api-error-body.js';
import { ApiRequestError, statusForCode } from './api-request-error.js';

interface Reply {
  status: number;
  body: ApiErrorBody;
  retryAfterSeconds?: number;
}

interface AjvIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/**
 * Turns any error thrown in the API scope into the API error body. Schema errors name the field
 * ("body/ttlSeconds must be <= 300"), whatever schemaErrorFormatter the host app uses.
 */
export function toErrorReply(err: unknown, logger: Logger): Reply {
  if (err instanceof ApiRequestError) {
    const r: Reply = { status: err.statusCode, body: errorBody(err.code, err.message, err.field, err.details) };
    if (err.retryAfterSeconds !== undefined) r.retryAfterSeconds = err.retryAfterSeconds;
    return r;
  }
  const fe = err as Partial<FastifyError> & { validation?: AjvIssue[]; validationContext?: string };
  if (Array.isArray(fe.validation) && fe.validation.length > 0) {
    return { status: 400, body: schemaErrorBody(fe.validation[0] as AjvIssue, fe.validationContext ?? 'request') };
  }
  if (isRingproofError(err)) {
    const status = statusForCode(err.code);
    if (status >= 500) logger.error({ err }, 'API request failed');
    return { status, body: errorBody(status >= 500 ? ErrorCodes.INTERNAL : err.code, status >= 500 ? 'internal error' : err.message) };
  }
  // Fastify's own client errors: bad JSON, wrong content type, body too large, ...
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    return { status, body: errorBody(ErrorCodes.API_VALIDATION, fe.message ?? 'invalid request') };
  }
  logger.error({ err }, 'API request failed');
  return { status: 500, body: errorBody(ErrorCodes.INTERNAL, 'internal error') };
}

function schemaErrorBody(issue: AjvIssue, context: string): ApiErrorBody {
  const path = issue.instancePath ?? '';
  const missing = issue.keyword === 'required' ? issue.params?.missingProperty : undefined;
  const extra = issue.keyword === 'additionalProperties' ? issue.params?.additionalProperty : undefined;
  const segments = path.split('/').filter((s) => s !== '');
  if (typeof missing === 'string') segments.push(missing);
  if (typeof extra === 'string') segments.push(extra);
  const field = segments.length > 0 ? segments.map(unescapePointer).join('/') : undefined;
  const message = typeof extra === 'string'
    ? `${context}/${field} is not an allowed property`
    : `${context}${path} ${issue.message ?? 'is invalid'}`;
  return errorBody(ErrorCodes.API_VALIDATION, message, field);
}

function unescapePointer(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

export function sendError(reply: FastifyReply, r: Reply, _req?: FastifyRequest): FastifyReply {
  if (r.retryAfterSeconds !== undefined) reply.header('retry-after', String(r.retryAfterSeconds));
  return reply.code(r.status).header('cache-control', 'no-store').send(r.body);
}
