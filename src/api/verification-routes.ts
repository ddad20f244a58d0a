import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TrustConfig, VerificationConfig } from '../config/config-types.js';
import type { Logger } from '../log/logger.js';
import type { VerificationMethod } from '../numbers/number-types.js';
import type { Verification, VerificationStore } from '../verify/verification-types.js';
import type { ApiPrincipal } from './api-authenticator.js';
import type { CreationChecks, CreationRequest } from './creation-checks.js';
import { ErrorCodes } from '../errors/codes.js';
import { ApiRequestError, notFoundError } from './api-request-error.js';
import { normalizePhoneNumber } from './normalize-phone-number.js';
import { rejectUnknownProperties } from './reject-unknown-properties.js';
import { validateCallbackUrl, type CallbackUrlRules } from './validate-callback-url.js';
import { validateMetadata } from './validate-metadata.js';
import { CALLER_TRUST_POLICY_PROPERTIES, CREATE_BODY_PROPERTIES, verificationRouteSchemas } from './verification-schemas.js';
import { resolveCallerTrustPolicy, samePolicy, type CallerTrustPolicyRequest } from './caller-trust-policy-request.js';
import type { CallerTrustPolicy } from '../trust/caller-trust-types.js';

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
  /** Outbound trunks configured for flash calls (outbound.trunks). */
  outboundTrunks: number;
}

/**
 * Why method flash_call is refused: nothing may ring a phone by mistake. With no outbound trunk the
 * operator has not turned flash calls on; with trunks, the SIP side (src/sip/uac) is in place but the
 * API does not place calls yet (issue #12).
 */
function flashCallUnavailable(outboundTrunks: number): ApiRequestError {
  const why = outboundTrunks === 0
    ? 'flash calls are off: no outbound trunk is configured (outbound.trunks)'
    : 'flash calls are not placed through the API in this version; use method inbound_call';
  return new ApiRequestError(ErrorCodes.FLASH_CALL_UNAVAILABLE, 422, why, 'method');
}

/** POST/GET/DELETE of verification sessions, mounted under /v1 by registerApi. */
export async function verificationRoutes(app: FastifyInstance, opts: VerificationRoutesOptions): Promise<void> {
  const { store, creationChecks, verification, trust, logger, principalOf, callbackUrls, outboundTrunks } = opts;
  const schemas = verificationRouteSchemas(verification);

  app.post<{ Body: CreateVerificationBody; Headers: { 'idempotency-key'?: string } }>('/verifications', {
    schema: schemas.create,
    // Metadata is capped at 4 KB; nothing legitimate comes close to this.
    bodyLimit: 16 * 1024,
    preValidation: rejectUnknownProperties(CREATE_BODY_PROPERTIES, { callerTrustPolicy: CALLER_TRUST_POLICY_PROPERTIES }),
  }, async (request, reply) => {
    const body = request.body;
    // Refused before anything is read or counted.
    if (body.method === 'flash_call') throw flashCallUnavailable(outboundTrunks);
    const phoneNumber = normalizePhoneNumber(body.phoneNumber, body.country);
    const callbackUrl = body.callbackUrl === undefined ? undefined : validateCallbackUrl(body.callbackUrl, callbackUrls);
    if (body.metadata !== undefined) validateMetadata(body.metadata);
    const trustPolicy = resolveCallerTrustPolicy(body.callerTrustPolicy, trust);
    const idempotencyKey = request.headers['idempotency-key'];
    const ttlSeconds = body.ttlSeconds ?? verification.defaultTtlSeconds;
    // Inbound is the only method served until flash calls (#12) are wired to the API.
    const creation: CreationRequest = { phoneNumber, method: 'inbound_call', principal: principalOf(request).name, clientIp: request.ip };
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
    logger.info({ verificationId: v.id, phoneNumber: v.phoneNumber, ttlSeconds, country: notes.phoneNumberInfo?.country, numberType: notes.phoneNumberInfo?.type }, 'verification created');
    reply.header('location', `/v1/verifications/${encodeURIComponent(v.id)}`);
    return send(reply, 201, v);
  });

  app.get<{ Params: { id: string } }>('/verifications/:id', { schema: schemas.get }, async (request, reply) => {
    const v = await store.get(request.params.id);
    if (!v) throw notFoundError(`verification ${request.params.id} not found`);
    return send(reply, 200, v);
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

function send(reply: FastifyReply, status: number, v: Verification): FastifyReply {
  return reply.code(status).send(v);
}
