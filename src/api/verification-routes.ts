import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OutboundConfig, TrustConfig, VerificationConfig } from '../config/config-types.js';
import type { Logger } from '../log/logger.js';
import type { VerificationMethod } from '../numbers/number-types.js';
import type { FlashReport, FlashReportResult, FlashReports } from '../verify/flash-report.js';
import { cliPatterns, flashWaitSeconds } from '../verify/flash-session.js';
import type { FlashSessionInput, Verification, VerificationStore } from '../verify/verification-types.js';
import type { ApiPrincipal } from './api-authenticator.js';
import type { CreationChecks, CreationRequest } from './creation-checks.js';
import { ErrorCodes } from '../errors/codes.js';
import { ApiRequestError, notFoundError } from './api-request-error.js';
import { normalizePhoneNumber } from './normalize-phone-number.js';
import { rejectUnknownProperties } from './reject-unknown-properties.js';
import { validateCallbackUrl, type CallbackUrlRules } from './validate-callback-url.js';
import { validateMetadata } from './validate-metadata.js';

import { resolveCallerTrustPolicy, samePolicy, type CallerTrustPolicyRequest } from './caller-trust-policy-request.js';
import type { CallerTrustPolicy } from '../trust/caller-trust-types.js';
import { CALLER_TRUST_POLICY_PROPERTIES, CREATE_BODY_PROPERTIES, REPORT_BODY_PROPERTIES, verificationRouteSchemas } from './verification-schemas.js';

export interface CreateVerificationBody {
  phoneNumber: string;
  country?: string;
  method?: VerificationMethod;
  ttlSeconds?: number;
  callbackUrl?: string;
  metadata?: Record<string, unknown>;
  callerTrustPolicy?: CallerTrustPolicyRequest;
}

export interface VerificationRoutesOptions {
  store: VerificationStore;
  creationChecks: CreationChecks;
  verification: VerificationConfig;
  /** The deployment's caller-trust policy, and how far a verification's callerTrustPolicy may differ from it. */
  trust: TrustConfig;
  logger: Logger;
  /** Where callbackUrl may point (webhooks.allowPrivateTargets). */
  callbackUrls: CallbackUrlRules;
  /** Who the request acts as; set by the auth hook. */
  principalOf: (request: FastifyRequest) => ApiPrincipal;
  /** Outbound flash calls (outbound.*): none configured = method flash_call is refused. */
  outbound: OutboundConfig;
  /** Reports of flash calls; present when this API process creates flash-call sessions. */
  flashReports: FlashReports | undefined;
}

export interface ReportBody {
  cli?: string;
  code?: string;
}

/**
 * Why method flash_call is refused: nothing may ring a phone by mistake. With no outbound trunk the
 * operator has not turned flash calls on.
 */
function flashCallUnavailable(outbound: OutboundConfig): ApiRequestError {
  const why = outbound.trunks.length === 0
    ? 'flash calls are off: no outbound trunk is configured (outbound.trunks)'
    : 'flash calls are not served by this API process (it has no flash queue); use method inbound_call';
  return new ApiRequestError(ErrorCodes.FLASH_CALL_UNAVAILABLE, 422, why, 'method');
}

/** POST/GET/DELETE of verification sessions, mounted under /v1 by registerApi. */
export async function verificationRoutes(app: FastifyInstance, opts: VerificationRoutesOptions): Promise<void> {
  const { store, creationChecks, verification, trust, logger, principalOf, callbackUrls, outbound, flashReports } = opts;
  const schemas = verificationRouteSchemas(verification);
  // Fixed at start: what a flash-call session tells the client to recognise.
  const flashInput: FlashSessionInput | undefined = outbound.trunks.length > 0 && flashReports !== undefined
    ? { cliPatterns: cliPatterns(outbound), waitSeconds: flashWaitSeconds(outbound), reportsMax: outbound.reportAttempts }
    : undefined;

  app.post<{ Body: CreateVerificationBody; Headers: { 'idempotency-key'?: string } }>('/verifications', {
    schema: schemas.create,
    // Metadata is capped at 4 KB; nothing legitimate comes close to this.
    bodyLimit: 16 * 1024,
    preValidation: rejectUnknownProperties(CREATE_BODY_PROPERTIES, { callerTrustPolicy: CALLER_TRUST_POLICY_PROPERTIES }),
  }, async (request, reply) => {
    const body = request.body;
    const method = body.method ?? 'inbound_call';
    // Refused before anything is read or counted.
    if (method === 'flash_call' && flashInput === undefined) throw flashCallUnavailable(outbound);
    const phoneNumber = normalizePhoneNumber(body.phoneNumber, body.country);
    const callbackUrl = body.callbackUrl === undefined ? undefined : validateCallbackUrl(body.callbackUrl, callbackUrls);
    if (body.metadata !== undefined) validateMetadata(body.metadata);
    const trustPolicy = resolveCallerTrustPolicy(body.callerTrustPolicy, trust);
    const idempotencyKey = request.headers['idempotency-key'];
    const ttlSeconds = body.ttlSeconds ?? verification.defaultTtlSeconds;
    const creation: CreationRequest = { phoneNumber, method, principal: principalOf(request).name, clientIp: request.ip };
    // A retry gets its original answer before any check runs: a limit that filled since the first
    // request (or a policy changed since) must not turn a created session into a refusal.
    const prior = idempotencyKey === undefined ? null : await store.findReplay(creation.principal, idempotencyKey);
    if (prior) return sendReplay(reply, prior, phoneNumber, callbackUrl, trustPolicy);
    const notes = await creationChecks.run(creation);
    const { verification: v, replayed } = await store.create({
      phoneNumber,
      ttlSeconds,
      ...(callbackUrl === undefined ? {} : { callbackUrl }),
      ...(body.metadata === undefined ? {} : { metadata: body.metadata }),
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      owner: creation.principal,
      ...(notes.phoneNumberInfo === undefined ? {} : { phoneNumberInfo: notes.phoneNumberInfo }),
      ...(trustPolicy === undefined ? {} : { trustPolicy }),
      ...(method === 'flash_call' && flashInput !== undefined ? { flash: flashInput } : {}),
    }).catch(async (err: unknown) => {
      // Nothing was stored: what the checks counted for it is given back.
      await creationChecks.released(creation, notes);
      throw err;
    });
    if (replayed) {
      // A concurrent request with the same key won the race: this one created nothing either.
      await creationChecks.released(creation, notes);
      return sendReplay(reply, v, phoneNumber, callbackUrl, trustPolicy);
    }
    creationChecks.created(creation, notes);
    logger.info({ verificationId: v.id, phoneNumber: v.phoneNumber, method, ttlSeconds, country: notes.phoneNumberInfo?.country, numberType: notes.phoneNumberInfo?.type }, 'verification created');
    reply.header('location', `/v1/verifications/${encodeURIComponent(v.id)}`);
    return send(reply, 201, v);
  });

  app.get<{ Params: { id: string } }>('/verifications/:id', { schema: schemas.get }, async (request, reply) => {
    const v = await store.get(request.params.id);
    if (!v) throw notFoundError(`verification ${request.params.id} not found`);
    return send(reply, 200, v);
  });

  app.post<{ Params: { id: string }; Body: ReportBody }>('/verifications/:id/report', {
    schema: schemas.report,
    bodyLimit: 1024,
    preValidation: [rejectUnknownProperties(REPORT_BODY_PROPERTIES), requireStrings(REPORT_BODY_PROPERTIES)],
  }, async (request, reply) => {
    const { cli, code } = request.body;
    if ((cli === undefined) === (code === undefined)) {
      throw new ApiRequestError(ErrorCodes.API_VALIDATION, 400, 'give exactly one of cli (the caller ID that rang) and code (its code digits)', cli === undefined ? 'cli' : 'code');
    }
    if (flashReports === undefined) {
      throw new ApiRequestError(ErrorCodes.REPORT_NOT_ACCEPTED, 409, 'this API process serves no flash calls (outbound.trunks is empty)', 'id');
    }
    const input: FlashReport = cli !== undefined ? { cli } : { code: code as string };
    const result = await flashReports.report(request.params.id, input);
    logger.info({ verificationId: request.params.id, result: result.kind }, 'flash call reported');
    return send(reply, 200, reportVerdict(request.params.id, result));
  });

  // DELETE is idempotent: a session that already finished (or was cancelled before) comes back
  // unchanged with 200, and its status tells the caller what it is.
  app.delete<{ Params: { id: string } }>('/verifications/:id', { schema: schemas.cancel }, async (request, reply) => {
    const v = await store.cancel(request.params.id);
    if (!v) throw notFoundError(`verification ${request.params.id} not found`);
    if (v.status === 'cancelled') logger.info({ verificationId: v.id }, 'verification cancelled');
    return send(reply, 200, v);
  });
}

/** 200 with the session an earlier request with the same Idempotency-Key created. */
function sendReplay(reply: FastifyReply, v: Verification, phoneNumber: string, callbackUrl: string | undefined, trustPolicy: CallerTrustPolicy | undefined): FastifyReply {
  // Replaying a session for another number would silently verify the wrong one, and one with another
  // caller-trust policy would hold the caller to rules the app did not ask for.
  if (v.phoneNumber !== phoneNumber || v.callbackUrl !== callbackUrl || !samePolicy(v.callerTrustPolicy, trustPolicy)) {
    throw new ApiRequestError(ErrorCodes.API_CONFLICT, 409, 'Idempotency-Key was already used for a different phoneNumber, callbackUrl or callerTrustPolicy', 'idempotency-key');
  }
  reply.header('location', `/v1/verifications/${encodeURIComponent(v.id)}`);
  reply.header('idempotency-replayed', 'true');
  return send(reply, 200, v);
}

/**
 * A preValidation hook refusing non-string values of `names`: Ajv would coerce 0042 (a JSON number)
 * to "42", and a code that lost its leading zeros must not use up a try.
 */
function requireStrings(names: readonly string[]) {
  return async function strings(request: FastifyRequest): Promise<void> {
    const body = request.body as Record<string, unknown> | null;
    if (body === null || typeof body !== 'object') return;
    for (const n of names) {
      if (n in body && typeof body[n] !== 'string') throw new ApiRequestError(ErrorCodes.API_VALIDATION, 400, `body/${n} must be a string`, n);
    }
  };
}

/** The verified session, or the refusal the report gets. */
function reportVerdict(id: string, r: FlashReportResult): Verification {
  switch (r.kind) {
    case 'verified': return r.verification;
    case 'missing': throw notFoundError(`verification ${id} not found`);
    case 'not_flash': throw new ApiRequestError(ErrorCodes.REPORT_NOT_ACCEPTED, 409, `verification ${id} is not a flash call: nothing to report`, 'id', { state: 'inbound_call' });
    case 'not_rung': throw new ApiRequestError(ErrorCodes.REPORT_NOT_ACCEPTED, 409, `verification ${id}: no flash call has rung yet (${r.state})`, 'id', { state: r.state });
    case 'ended': throw new ApiRequestError(ErrorCodes.REPORT_NOT_ACCEPTED, 409, `verification ${id} is ${r.status}: it takes no report`, 'id', { state: r.status });
    case 'expired': throw new ApiRequestError(ErrorCodes.REPORT_EXPIRED, 410, `verification ${id} expired at ${r.expiresAt}: reported too late`, 'id');
    case 'mismatch': throw new ApiRequestError(ErrorCodes.REPORT_MISMATCH, 422, `not the caller ID that rang; ${r.reportsLeft} ${r.reportsLeft === 1 ? 'try' : 'tries'} left`, undefined, { reportsLeft: r.reportsLeft });
    case 'failed': throw new ApiRequestError(ErrorCodes.REPORT_TRIES_EXHAUSTED, 422, `not the caller ID that rang, and that was the last try: verification ${id} failed`, undefined, { reportsLeft: 0 });
  }
}

function send(reply: FastifyReply, status: number, v: Verification): FastifyReply {
  return reply.code(status).send(v);
}
