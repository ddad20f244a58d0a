import type { FastifyRequest } from 'fastify';
import { validationError } from './api-request-error.js';

/**
 * A preValidation hook refusing a body that is not an object (absent or null is left to the
 * schema), and body properties the schema does not list. Fastify's default Ajv
 * options (removeAdditional) would silently drop them instead, and a typo such as "ttl" for
 * "ttlSeconds" must not quietly fall back to the default.
 */
export function rejectUnknownProperties(allowed: readonly string[], nested: Readonly<Record<string, readonly string[]>> = {}) {
  const known = new Set(allowed);
  const inner = new Map(Object.entries(nested).map(([k, v]) => [k, new Set(v)]));
  return async function rejectUnknown(request: FastifyRequest): Promise<void> {
    const body = request.body;
    // Checked before the schema, whose type coercion would read "", 0 or false as a null body.
    if (body === undefined || body === null) return;
    if (!isObject(body)) throw validationError('body must be a JSON object', 'body');
    for (const [key, value] of Object.entries(body)) {
      if (!known.has(key)) throw validationError(`body/${key} is not an allowed property`, key);
      const props = inner.get(key);
      if (props === undefined || !isObject(value)) continue;
      for (const sub of Object.keys(value)) {
        if (!props.has(sub)) throw validationError(`body/${key}/${sub} is not an allowed property`, `${key}.${sub}`);
      }
    }
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
