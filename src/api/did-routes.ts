import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DidNotFound, DidPoolConflict, type DidPool } from '../dids/did-pool.js';
import { toDid } from '../dids/did-number.js';
import { ErrorCodes } from '../errors/codes.js';
import type { Logger } from '../log/logger.js';
import { maskNumber } from '../log/mask.js';
import { adminRequiredError, type ApiPrincipal } from './api-authenticator.js';
import { ApiRequestError, notFoundError, validationError } from './api-request-error.js';
import { rejectUnknownProperties } from './reject-unknown-properties.js';
import { didRouteSchemas as schemas } from './admin-schemas.js';

export interface DidRoutesOptions {
  pool: DidPool;
  logger: Logger;
  principalOf: (request: FastifyRequest) => ApiPrincipal;
}


/** A DID from the request, in E.164, or a 400 naming the field. */
function did(text: string, field: string): string {
  const e164 = toDid(text);
  if (e164 === undefined) throw validationError(`${field}: ${JSON.stringify(text.slice(0, 40))} is not an E.164 number such as "+15550100001"`, field);
  return e164;
}

/** The pool's refusals as API errors: 404 for an unknown DID, 409 for a change the pool's rules refuse. */
async function answer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof DidNotFound) throw notFoundError(err.message);
    if (err instanceof DidPoolConflict) throw new ApiRequestError(ErrorCodes.API_CONFLICT, 409, err.message, undefined, err.details);
    throw err;
  }
}

/** /v1/dids: the DID pool (list, add, release into quarantine, restore). Admin keys only: an app key gets 403 RP_API_ADMIN_REQUIRED. */
export async function didRoutes(app: FastifyInstance, opts: DidRoutesOptions): Promise<void> {
  const { pool, logger } = opts;
  // Before the body is looked at: an app key learns nothing about these routes but 403.
  app.addHook('onRequest', async (request) => { if (!opts.principalOf(request).admin) throw adminRequiredError(); });

  app.get('/dids', { schema: { response: schemas.list.response } }, async () => ({ dids: await pool.list() }));

  app.get<{ Params: { did: string } }>('/dids/:did', { schema: { params: schemas.get.params, response: schemas.get.response } }, async (request) =>
    answer(() => pool.get(did(request.params.did, 'did'))));

  app.post<{ Body: { did: string } }>('/dids', { schema: { body: schemas.add.body, response: schemas.add.response }, preValidation: rejectUnknownProperties(['did']) }, async (request, reply) => {
    const { record, created } = await answer(() => pool.add(did(request.body.did, 'did')));
    if (created) logger.info({ did: maskNumber(record.did), by: opts.principalOf(request).name }, 'DID added to the pool');
    return reply.code(created ? 201 : 200).send(record);
  });

  app.post<{ Params: { did: string }; Body: { reason?: string; quarantineDays?: number } | null }>('/dids/:did/release', {
    schema: { params: schemas.release.params, body: schemas.release.body, response: schemas.release.response }, preValidation: rejectUnknownProperties(['reason', 'quarantineDays']),
  }, async (request) => {
    const body = request.body ?? {};
    const record = await answer(() => pool.release(did(request.params.did, 'did'), {
      ...(body.reason !== undefined ? { reason: body.reason } : {}),
      ...(body.quarantineDays !== undefined ? { quarantineDays: body.quarantineDays } : {}),
    }));
    logger.info({ did: maskNumber(record.did), by: opts.principalOf(request).name, quarantineUntil: record.quarantineUntil, reason: record.reason }, 'DID released into quarantine');
    return record;
  });

  app.post<{ Params: { did: string } }>('/dids/:did/unflag', { schema: { params: schemas.unflag.params, response: schemas.unflag.response } }, async (request) => {
    const record = await answer(() => pool.unflag(did(request.params.did, 'did')));
    logger.info({ did: maskNumber(record.did), by: opts.principalOf(request).name }, 'DID flag removed');
    return record;
  });

  app.post<{ Params: { did: string }; Body: { force?: boolean } | null }>('/dids/:did/restore', {
    schema: { params: schemas.restore.params, body: schemas.restore.body, response: schemas.restore.response }, preValidation: rejectUnknownProperties(['force']),
  }, async (request) => {
    const record = await answer(() => pool.restore(did(request.params.did, 'did'), { force: request.body?.force === true }));
    logger.info({ did: maskNumber(record.did), by: opts.principalOf(request).name }, 'DID restored to service');
    return record;
  });
}
