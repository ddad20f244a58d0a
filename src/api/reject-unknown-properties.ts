import type { FastifyRequest } from 'fastify';
import { validationError } from './api-request-error.js';

/**
 * A preValidation hook refusing body properties the schema does not list. Fastify's default Ajv
 * options (removeAdditional) would silently drop them instead, and a typo such as "ttl" for
 * "ttlSeconds" must not quietly fall back to the default.
 */
export function rejectUnknownProperties(allowed: readonly string[]) {
  const known = new Set(allowed);
  return async function rejectUnknown(request: FastifyRequest): Promise<void> {
    const body = request.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return;
    for (const key of Object.keys(body)) {
      if (!known.has(key)) throw validationError(`body/${key} is not an allowed property`, key);
    }
  };
}
