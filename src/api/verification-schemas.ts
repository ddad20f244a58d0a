import type { VerificationConfig } from '../config/config-types.js';
import { VERSTAT_TRUSTS } from '../trust/verstat.js';
import { CALLER_TRUST_OUTCOMES } from '../trust/caller-trust-types.js';
import { CARRIER_LOOKUP_FAILURES, CLASSIFICATION_SOURCES, NUMBER_FLAGS, NUMBER_TYPES, POLICY_RULES, VERIFICATION_METHODS } from '../numbers/number-types.js';
import { MAX_METADATA_KEYS } from './validate-metadata.js';
import { CALL_LIMIT_OUTCOMES } from '../limits/call-limit-defaults.js';
import { CREATE_LIMITS } from '../limits/create-limit-defaults.js';
import { FAILURE_CLASSES } from '../sip/uac/index.js';
import { FLASH_STATES } from '../verify/flash-session.js';
import { VERIFICATION_STATUSES } from '../verify/session-record.js';

/**
 * JSON Schemas of the /v1/verifications routes. Fastify validates and serializes with them, and the
 * OpenAPI document is built from the very same objects, so the two cannot drift apart.
 * TTL bounds come from the configuration, so the document states the limits actually enforced.
 */

export const ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'Stable error code, e.g. RP_API_VALIDATION' },
        message: { type: 'string' },
        field: { type: 'string', description: 'The body property, header or path parameter to blame' },
        rule: { type: 'string', enum: POLICY_RULES, description: 'RP_NUMBER_REFUSED: the number policy rule that refused' },
        method: { type: 'string', enum: VERIFICATION_METHODS, description: 'RP_NUMBER_REFUSED: the verification method whose policy refused' },
        country: { type: 'string', description: 'RP_NUMBER_REFUSED: the number\'s region ("001" non-geographic, "ZZ" none)' },
        type: { type: 'string', enum: NUMBER_TYPES, description: 'RP_NUMBER_REFUSED: the number\'s type' },
        prefix: { type: 'string', description: 'rule prefix_denied: the deny-listed prefix' },
        reason: { type: 'string', description: 'rule prefix_denied: the reason the deny-prefix file gives' },
        source: { type: 'string', enum: CLASSIFICATION_SOURCES, description: 'RP_NUMBER_REFUSED: how the type was classified' },
        lookup: { type: 'string', enum: CARRIER_LOOKUP_FAILURES, description: 'RP_NUMBER_LOOKUP_FAILED: why the carrier lookup failed' },
        limit: { type: 'string', enum: CREATE_LIMITS, description: 'RP_CREATION_LIMITED: the creation limit that is full' },
        count: { type: 'integer', description: 'RP_CREATION_LIMITED: creations that limit allows per window; RP_FLASH_THROTTLED: flash calls per number per window' },
        windowSeconds: { type: 'integer', description: 'RP_CREATION_LIMITED, RP_FLASH_THROTTLED: the window' },
        retryAfterSeconds: { type: 'integer', description: 'RP_CREATION_LIMITED: seconds until the window ends (also the Retry-After header)' },
        scope: { type: 'string', enum: ['admin'], description: 'RP_API_ADMIN_REQUIRED: the scope the route needs' },
        status: { type: 'string', description: 'DID pool conflict: the DID\'s status' },
        quarantineUntil: { type: 'string', format: 'date-time', description: 'DID pool conflict: when the DID\'s quarantine ends' },
        unwantedCalls: { type: 'integer', description: 'DID pool conflict: unwanted calls the DID drew in the restore window' },
        windowMinutes: { type: 'integer', description: 'DID pool conflict: that window' },
        reportsLeft: { type: 'integer', description: 'RP_REPORT_MISMATCH: reports the session still takes' },
        state: { type: 'string', description: 'RP_REPORT_NOT_ACCEPTED: the flash call\'s state, or the session\'s status when it has ended' },
      },
    },
  },
} as const;

const phoneNumberInfoSchema = {
  type: 'object',
  description: 'What the number policy found at creation; decide an SMS fallback by it (e.g. none to VoIP)',
  required: ['country', 'countryCallingCode', 'type', 'valid', 'source'],
  properties: {
    country: { type: 'string', description: 'ISO 3166-1 alpha-2 region, "001" for non-geographic codes' },
    countryCallingCode: { type: 'string', description: 'Without "+", e.g. "44"' },
    type: { type: 'string', enum: NUMBER_TYPES },
    valid: { type: 'boolean', description: 'In an allocated range of its region, not merely the right length' },
    source: { type: 'string', enum: CLASSIFICATION_SOURCES, description: 'How the type was classified: ranges (libphonenumber number ranges) or carrier (numbers.carrierLookup)' },
    flags: { type: 'array', items: { type: 'string', enum: NUMBER_FLAGS }, description: 'Accepted, but note: voip (policy voip: flag), lookup_failed (the carrier lookup failed; onError: allow)' },
  },
} as const;

export const CALLER_TRUST_POLICY_PROPERTIES = ['failed', 'minAttestation', 'requireNetworkAsserted'] as const;

const callerTrustPolicySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    failed: { type: 'string', enum: ['reject', 'accept'], description: 'reject: a call whose caller ID failed STIR/SHAKEN validation never verifies; accept: it may' },
    minAttestation: { type: 'string', enum: ['none', 'C', 'B', 'A'], description: 'Lowest validated attestation a call needs (a plain TN-Validation-Passed counts as C)' },
    requireNetworkAsserted: { type: 'boolean', description: 'Only a caller ID from P-Asserted-Identity or Remote-Party-ID, or vouched for by a valid PASSporT, verifies; not one from From alone' },
  },
} as const;

const flashAttemptSchema = {
  type: 'object',
  description: 'One trunk\'s try of the flash call (its SIP history)',
  required: ['trunk', 'cli', 'startedAt', 'statuses', 'cancelSent', 'outcome'],
  properties: {
    trunk: { type: 'string', description: 'The outbound trunk (outbound.trunks[].name)' },
    cli: { type: 'string', description: 'The caller ID sent; its code digits are X while the session is pending' },
    startedAt: { type: 'string', format: 'date-time' },
    statuses: { type: 'array', items: { type: 'integer' }, description: 'Provisional and final SIP statuses received, in order' },
    postDialDelayMs: { type: 'integer', description: 'INVITE to the first 180/183' },
    ringMs: { type: 'integer', description: 'First 180/183 to our CANCEL (or the final response)' },
    finalStatus: { type: 'integer', description: 'The INVITE\'s final status (487 proves the cancel)' },
    reason: {
      type: 'object', description: 'The Q.850 Reason header of the final response (RFC 3326)', required: ['cause'],
      properties: { cause: { type: 'integer' }, text: { type: 'string' } },
    },
    cancelSent: { type: 'boolean' },
    outcome: { type: 'string', enum: ['rang', 'answered', 'failed'] },
    failureClass: { type: 'string', enum: FAILURE_CLASSES },
  },
} as const;

const flashCallSchema = {
  type: 'object',
  description: 'method flash_call: what to recognise, where the call is, and its SIP history',
  required: ['state', 'cliPatterns', 'waitSeconds', 'reportsLeft', 'attempts'],
  properties: {
    state: { type: 'string', enum: FLASH_STATES, description: 'queued, calling, ringing, rang (cancelled after the ring: report it), answered (picked up; a report still verifies), failed (see failureClass)' },
    cliPatterns: {
      type: 'array',
      description: 'The caller IDs the call may come from: prefix, then codeLength code digits',
      items: {
        type: 'object', required: ['pattern', 'prefix', 'codeLength'],
        properties: { pattern: { type: 'string', description: 'As configured, X = a code digit' }, prefix: { type: 'string' }, codeLength: { type: 'integer' } },
      },
    },
    waitSeconds: { type: 'integer', description: 'From createdAt: the phone should ring within this; past it, tell the user it did not come' },
    failureClass: { type: 'string', enum: FAILURE_CLASSES, description: 'state failed: why the call did not ring' },
    reportsLeft: { type: 'integer', description: 'Reports the session still takes; a wrong last one fails it' },
    attempts: { type: 'array', items: flashAttemptSchema },
  },
} as const;

const verificationSchema = {
  type: 'object',
  required: ['id', 'status', 'phoneNumber', 'createdAt', 'expiresAt'],
  properties: {
    id: { type: 'string' },
    status: { type: 'string', enum: VERIFICATION_STATUSES, description: 'failed: a flash-call session whose reports were all wrong' },
    method: { type: 'string', enum: ['flash_call'], description: 'flash_call for a flash-call session; absent for inbound_call' },
    phoneNumber: { type: 'string', description: 'The number being verified, E.164' },
    callTo: { type: 'string', description: 'inbound_call: the number the user must call, E.164 (absent for flash_call)' },
    createdAt: { type: 'string', format: 'date-time' },
    expiresAt: { type: 'string', format: 'date-time' },
    verifiedAt: { type: 'string', format: 'date-time' },
    callbackUrl: { type: 'string', format: 'uri' },
    metadata: { type: 'object', additionalProperties: true },
    callId: { type: 'string', description: 'SIP Call-ID of the call that verified the session' },
    callerTrust: {
      type: 'object',
      description: 'Caller-trust verdict of the call that verified the session: the carrier\'s STIR/SHAKEN verstat, and the Identity header when ringproof verified it',
      required: ['result', 'verstat', 'attest'],
      properties: {
        result: { type: 'string', enum: ['pass', 'fail', 'none'] },
        verstat: { type: 'string', enum: [...VERSTAT_TRUSTS] },
        attest: { type: ['string', 'null'], enum: ['A', 'B', 'C', null] },
        identity: { type: 'string', enum: ['valid', 'invalid', 'unchecked', 'absent'], description: 'The STIR/SHAKEN Identity header, when trust.identity is on' },
        spc: { type: ['string', 'null'], description: 'Service Provider Code of a valid PASSporT certificate (TNAuthList)' },
        cliSource: { type: 'string', enum: ['pai', 'rpid', 'from'], description: 'The header the caller ID was read from: P-Asserted-Identity, Remote-Party-ID or From' },
        networkAsserted: { type: 'boolean', description: 'The caller ID was asserted by the network: from P-Asserted-Identity or Remote-Party-ID, or vouched for by a valid PASSporT' },
      },
    },
    callerTrustPolicy: { ...callerTrustPolicySchema, required: ['failed', 'minAttestation', 'requireNetworkAsserted'], description: 'The session\'s own caller-trust policy, as created (unset fields taken from the deployment\'s trust configuration); absent = the deployment\'s policy applies' },
    lastRejection: {
      type: 'object',
      description: 'The latest call that matched this session but was refused, by the caller-trust policy (caller_id_*) or a call limit (limit_*); the session stayed open',
      required: ['reason', 'at'],
      properties: {
        reason: { type: 'string', enum: [...CALLER_TRUST_OUTCOMES, ...Object.values(CALL_LIMIT_OUTCOMES)] },
        at: { type: 'string', format: 'date-time' },
      },
    },
    phoneNumberInfo: phoneNumberInfoSchema,
    flashCall: flashCallSchema,
  },
} as const;

export const CREATE_BODY_PROPERTIES = ['phoneNumber', 'country', 'method', 'ttlSeconds', 'callbackUrl', 'metadata', 'callerTrustPolicy'] as const;

function createBodySchema(v: VerificationConfig) {
  return {
    type: 'object',
    required: ['phoneNumber'],
    additionalProperties: false,
    properties: {
      phoneNumber: {
        type: 'string',
        minLength: 1,
        maxLength: 40,
        description: 'International form ("+12025550123"), or a national form when country is given',
      },
      country: {
        type: 'string',
        pattern: '^[A-Z]{2}$',
        description: 'ISO 3166-1 alpha-2 country for a national phoneNumber',
      },
      method: {
        type: 'string',
        enum: VERIFICATION_METHODS,
        default: 'inbound_call',
        description: 'inbound_call: the user calls callTo. flash_call: ringproof rings the user from a caller ID of flashCall.cliPatterns; report it with POST /v1/verifications/{id}/report (422 RP_FLASH_CALL_UNAVAILABLE when no outbound trunk is configured)',
      },
      ttlSeconds: {
        type: 'integer',
        minimum: v.minTtlSeconds,
        maximum: v.maxTtlSeconds,
        default: v.defaultTtlSeconds,
      },
      callbackUrl: {
        type: 'string',
        minLength: 1,
        maxLength: 2048,
        description: 'Webhook URL for this session: https, or http to a loopback host; a non-public address only when webhooks.allowPrivateTargets lists it',
      },
      metadata: {
        type: 'object',
        maxProperties: MAX_METADATA_KEYS,
        additionalProperties: true,
        description: 'Opaque to ringproof, echoed in webhooks; at most 4096 bytes as JSON',
      },
      callerTrustPolicy: {
        ...callerTrustPolicySchema,
        description: 'This verification\'s own caller-trust policy; unset fields come from the deployment\'s trust configuration. '
          + 'Only a stricter policy than the deployment\'s is accepted unless trust.perVerification is any (else 422 RP_CALLER_TRUST_POLICY_REFUSED)',
      },
    },
  } as const;
}

const idempotencyHeaders = {
  type: 'object',
  properties: {
    'idempotency-key': { type: 'string', minLength: 1, maxLength: 255 },
  },
} as const;

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: ID_PATTERN } },
} as const;

export const REPORT_BODY_PROPERTIES = ['cli', 'code'] as const;

const reportBodySchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Exactly one of cli and code',
  properties: {
    cli: { type: 'string', pattern: '^\\+[1-9][0-9]{5,14}$', description: 'The caller ID that rang, E.164' },
    code: { type: 'string', pattern: '^[0-9]{1,8}$', description: 'Only the code digits of the caller ID that rang (the trailing digits of its pattern)' },
  },
} as const;

const errorResponses = {
  400: errorSchema,
  401: errorSchema,
  403: errorSchema,
  404: errorSchema,
  // Any request may carry a body, which is parsed (and limited) before the route runs.
  413: errorSchema,
  415: errorSchema,
  500: errorSchema,
} as const;

export interface VerificationRouteSchemas {
  create: Record<string, unknown>;
  get: Record<string, unknown>;
  cancel: Record<string, unknown>;
  report: Record<string, unknown>;
}

export function verificationRouteSchemas(v: VerificationConfig): VerificationRouteSchemas {
  return {
    create: {
      operationId: 'createVerification',
      summary: 'Start a verification: the user must call `callTo` from `phoneNumber` before `expiresAt`',
      headers: idempotencyHeaders,
      body: createBodySchema(v),
      response: {
        200: { ...verificationSchema, description: 'Replay of an earlier request with the same Idempotency-Key' },
        201: verificationSchema,
        ...errorResponses,
        409: errorSchema,
        422: errorSchema,
        503: { ...errorSchema, description: 'RP_NUMBER_LOOKUP_FAILED: the carrier lookup failed and numbers.carrierLookup.onError is refuse' },
        429: errorSchema,
      },
    },
    get: {
      operationId: 'getVerification',
      summary: 'Read a verification',
      params: idParams,
      response: { 200: verificationSchema, ...errorResponses },
    },
    report: {
      operationId: 'reportFlashCall',
      summary: 'flash_call: report the caller ID (or its code) that rang; verifies the session when it matches',
      params: idParams,
      body: reportBodySchema,
      response: {
        200: { ...verificationSchema, description: 'It matched: the session is verified' },
        ...errorResponses,
        409: { ...errorSchema, description: 'RP_REPORT_NOT_ACCEPTED: not a flash call, nothing has rung yet, or the session has ended' },
        410: { ...errorSchema, description: 'RP_REPORT_EXPIRED: the session expired (or its call failed) before the report' },
        422: { ...errorSchema, description: 'RP_REPORT_MISMATCH (reportsLeft tries left) or RP_REPORT_TRIES_EXHAUSTED (the session failed)' },
      },
    },
    cancel: {
      operationId: 'cancelVerification',
      summary: 'Cancel a pending verification; a finished one is returned unchanged',
      params: idParams,
      response: { 200: verificationSchema, ...errorResponses },
    },
  };
}

export { errorResponses, errorSchema, verificationSchema };
