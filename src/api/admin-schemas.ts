import { BLOCKLIST_KINDS } from '../abuse/blocklist-entry.js';
import { errorResponses, errorSchema } from './verification-schemas.js';

/**
 * JSON Schemas of the admin routes (/v1/blocklist, /v1/dids). Like the verification schemas, Fastify
 * validates and serializes with them and the OpenAPI document is built from the same objects.
 * The blocklist's add body is the exception: parseBlocklistInput reads it (the CLI shares that
 * reader), so its schema here documents what the reader accepts and Fastify does not apply it.
 */

const adminErrors = {
  ...errorResponses,
  403: { ...errorSchema, description: 'An app key on an admin route (RP_API_ADMIN_REQUIRED, scope admin), or a non-loopback client in open mode' },
} as const;

const blocklistEntrySchema = {
  type: 'object',
  required: ['kind', 'value', 'reason', 'expiresAt', 'createdAt', 'createdBy'],
  properties: {
    kind: { type: 'string', enum: BLOCKLIST_KINDS },
    value: { type: 'string', description: 'number: E.164; prefix: "+" and 1-15 digits; name: the caller name (From display name)' },
    reason: { type: 'string', description: 'Machine-readable reason, a metric label ("fraud"; "auto:hammering" for an automatic block)' },
    note: { type: 'string' },
    expiresAt: { type: ['string', 'null'], format: 'date-time', description: 'null: until removed' },
    createdAt: { type: 'string', format: 'date-time' },
    createdBy: { type: 'string', description: 'The API key name, "cli", or "auto"' },
  },
} as const;

const blocklistAddBody = {
  type: 'object',
  required: ['kind', 'value', 'reason'],
  additionalProperties: false,
  properties: {
    kind: { type: 'string', enum: BLOCKLIST_KINDS },
    value: { type: 'string', minLength: 1, maxLength: 128, description: 'number: E.164 ("+12025550123"); prefix: "+" and 1-15 digits; name: 1-128 printable characters' },
    reason: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$', description: 'e.g. "fraud"; put prose in note' },
    note: { type: 'string', maxLength: 500 },
    expiresAt: { type: ['string', 'null'], format: 'date-time', description: 'In the future, within ten years; not with ttlSeconds' },
    ttlSeconds: { type: 'integer', minimum: 1, maximum: 315_360_000, description: 'Lifetime instead of expiresAt' },
  },
} as const;

const blocklistParams = {
  type: 'object',
  required: ['kind', 'value'],
  properties: {
    kind: { type: 'string', enum: BLOCKLIST_KINDS },
    value: { type: 'string', minLength: 1, maxLength: 128 },
  },
} as const;

const didSchema = { type: 'string', minLength: 1, maxLength: 40, description: 'E.164, e.g. "+15550100001"' } as const;
const epochMs = { type: 'integer', description: 'Unix epoch milliseconds' } as const;

const didRecordSchema = {
  type: 'object',
  required: ['did', 'status', 'source', 'addedAt'],
  properties: {
    did: { type: 'string' },
    status: { type: 'string', enum: ['active', 'quarantined'] },
    source: { type: 'string', enum: ['config', 'api'], description: 'The configuration\'s dids, or an operator through the API or CLI' },
    addedAt: epochMs,
    releasedAt: epochMs,
    quarantineUntil: { ...epochMs, description: 'A quarantined DID may be restored from then on, if it has gone quiet' },
    reason: { type: 'string' },
    restoredAt: epochMs,
    flag: {
      type: 'object',
      description: 'Raised by the unwanted-call watch (didPool.flag); shown until it expires',
      required: ['reason', 'at', 'expiresAt', 'recentPerMinute', 'baselinePerMinute'],
      properties: {
        reason: { type: 'string', enum: ['unwanted_calls_spike'] },
        at: epochMs,
        expiresAt: epochMs,
        recentPerMinute: { type: 'number' },
        baselinePerMinute: { type: 'number' },
      },
    },
  },
} as const;

const didViewSchema = {
  ...didRecordSchema,
  required: [...didRecordSchema.required, 'unwantedCalls'],
  properties: { ...didRecordSchema.properties, unwantedCalls: { type: 'integer', description: 'Unwanted calls in the restore window (didPool.restoreQuietMinutes)' } },
} as const;

export const didParams = { type: 'object', required: ['did'], properties: { did: didSchema } } as const;
export const didAddBody = { type: 'object', required: ['did'], additionalProperties: false, properties: { did: didSchema } } as const;
export const didReleaseBody = {
  type: ['object', 'null'], additionalProperties: false,
  properties: {
    reason: { type: 'string', minLength: 1, maxLength: 200 },
    quarantineDays: { type: 'integer', minimum: 0, maximum: 3650, description: 'Default didPool.quarantineDays' },
  },
} as const;
export const didRestoreBody = {
  type: ['object', 'null'], additionalProperties: false,
  properties: { force: { type: 'boolean', description: 'Restore a release made by mistake, before its quarantine ends' } },
} as const;

const conflict = { ...errorSchema, description: 'The pool refuses the change (the message says why: quarantined, last one in service, still drawing calls)' } as const;
const unknownDid = { ...errorSchema, description: 'The DID is not in the pool' } as const;

export const blocklistRouteSchemas = {
  list: {
    operationId: 'listBlocklist',
    summary: 'List the blocklist entries in force (admin)',
    response: {
      200: { type: 'object', required: ['entries'], properties: { entries: { type: 'array', items: blocklistEntrySchema } } },
      ...adminErrors,
    },
  },
  add: {
    operationId: 'addBlocklistEntry',
    summary: 'Add or replace a blocklist entry (admin); every edge enforces it within a second',
    documentedBody: blocklistAddBody,
    response: {
      201: { type: 'object', required: ['entry'], properties: { entry: blocklistEntrySchema } },
      ...adminErrors,
    },
  },
  remove: {
    operationId: 'removeBlocklistEntry',
    summary: 'Remove a blocklist entry (admin)',
    params: blocklistParams,
    response: {
      200: {
        type: 'object', required: ['removed'],
        properties: { removed: { type: 'object', required: ['kind', 'value'], properties: { kind: { type: 'string', enum: BLOCKLIST_KINDS }, value: { type: 'string' } } } },
      },
      ...adminErrors,
      404: { ...errorSchema, description: 'No such entry' },
    },
  },
} as const;

export const didRouteSchemas = {
  list: {
    operationId: 'listDids',
    summary: 'List the DID pool with each DID\'s unwanted calls (admin)',
    response: { 200: { type: 'object', required: ['dids'], properties: { dids: { type: 'array', items: didViewSchema } } }, ...adminErrors },
  },
  get: {
    operationId: 'getDid', summary: 'Read one DID of the pool (admin)', params: didParams,
    response: { 200: didViewSchema, ...adminErrors, 404: unknownDid },
  },
  add: {
    operationId: 'addDid', summary: 'Add a DID to the pool (admin); 200 when it was there already', body: didAddBody,
    response: { 200: { ...didRecordSchema, description: 'Already in the pool' }, 201: didRecordSchema, ...adminErrors, 409: conflict },
  },
  release: {
    operationId: 'releaseDid', summary: 'Release a DID into quarantine (admin): no new verification draws it', params: didParams, body: didReleaseBody,
    response: { 200: didRecordSchema, ...adminErrors, 404: unknownDid, 409: conflict },
  },
  unflag: {
    operationId: 'unflagDid', summary: 'Remove a DID\'s unwanted-call flag (admin)', params: didParams,
    response: { 200: didRecordSchema, ...adminErrors, 404: unknownDid },
  },
  restore: {
    operationId: 'restoreDid', summary: 'Restore a quarantined DID to service (admin)', params: didParams, body: didRestoreBody,
    response: { 200: didRecordSchema, ...adminErrors, 404: unknownDid, 409: conflict },
  },
} as const;
