import type { FastifyInstance, FastifyRequest } from 'fastify';
import { blocklistValue, BLOCKLIST_KINDS, parseBlocklistInput, type BlocklistEntry, type BlocklistKind } from '../abuse/blocklist-entry.js';
import type { BlocklistStore } from '../abuse/blocklist-store.js';
import type { Logger } from '../log/logger.js';
import { maskNumber } from '../log/mask.js';
import { adminRequiredError, type ApiPrincipal } from './api-authenticator.js';
import { notFoundError, validationError } from './api-request-error.js';
import { blocklistRouteSchemas as schemas } from './admin-schemas.js';

export interface BlocklistRoutesOptions {
  store: BlocklistStore;
  logger: Logger;
  principalOf: (request: FastifyRequest) => ApiPrincipal;
}

/** The API form of an entry: times as ISO 8601. */
export function blocklistResource(e: BlocklistEntry): Record<string, unknown> {
  return {
    kind: e.kind,
    value: e.value,
    reason: e.reason,
    ...(e.note === undefined ? {} : { note: e.note }),
    expiresAt: e.expiresAt === null ? null : new Date(e.expiresAt).toISOString(),
    createdAt: new Date(e.createdAt).toISOString(),
    createdBy: e.createdBy,
  };
}

/** Entry values in logs: numbers masked like every number, caller names not at all. */
export function maskedBlocklistValue(kind: BlocklistKind, value: string): string | null {
  return kind === 'name' ? `<${value.length} characters>` : maskNumber(value);
}

/**
 * /v1/blocklist: GET lists the entries in force, POST adds (or replaces) one, DELETE
 * /v1/blocklist/:kind/:value removes one. Admin keys only: an app key gets 403 RP_API_ADMIN_REQUIRED.
 * Every change reaches every edge through Redis within a round trip (see BlocklistStore).
 */
export async function blocklistRoutes(app: FastifyInstance, opts: BlocklistRoutesOptions): Promise<void> {
  const { store, logger, principalOf } = opts;
  app.addHook('preHandler', async (request) => {
    if (!principalOf(request).admin) throw adminRequiredError();
  });

  app.get('/blocklist', { schema: { response: schemas.list.response } }, async () => ({ entries: (await store.list()).map(blocklistResource) }));

  // The body is read by parseBlocklistInput (shared with the CLI), not by a schema.
  app.post('/blocklist', { bodyLimit: 8 * 1024, schema: { response: schemas.add.response } }, async (request, reply) => {
    const input = parseBlocklistInput(request.body, Date.now());
    const by = principalOf(request).name;
    const entry = await store.add(input, by);
    logger.info(
      { kind: entry.kind, value: maskedBlocklistValue(entry.kind, entry.value), reason: entry.reason, expiresAt: entry.expiresAt, by },
      'blocklist entry added',
    );
    return reply.code(201).send({ entry: blocklistResource(entry) });
  });

  app.delete<{ Params: { kind: string; value: string } }>('/blocklist/:kind/:value', { schema: { response: schemas.remove.response } }, async (request) => {
    const { kind } = request.params;
    if (!BLOCKLIST_KINDS.includes(kind as BlocklistKind)) throw validationError(`kind must be one of ${BLOCKLIST_KINDS.join(', ')}`, 'kind');
    const v = blocklistValue(kind as BlocklistKind, request.params.value);
    if ('problem' in v) throw validationError(`value ${v.problem}`, 'value');
    if (!(await store.remove(kind as BlocklistKind, v.value))) throw notFoundError(`no blocklist entry for ${kind} ${JSON.stringify(v.value)}`);
    const by = principalOf(request).name;
    logger.info({ kind, value: maskedBlocklistValue(kind as BlocklistKind, v.value), by }, 'blocklist entry removed');
    return { removed: { kind, value: v.value } };
  });
}
