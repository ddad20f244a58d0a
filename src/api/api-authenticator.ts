import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKeyConfig } from '../config/config-types.js';
import { ErrorCodes } from '../errors/codes.js';
import { RingproofError } from '../errors/ringproof-error.js';
import { ApiRequestError } from './api-request-error.js';
import { isLoopbackAddress } from './loopback-address.js';

/** Who a request acts as; the name scopes idempotency keys. */
export interface ApiPrincipal {
  /** The API key name, or LOOPBACK_PRINCIPAL in open (no keys) mode. */
  name: string;
  /**
   * May manage the blocklist and other admin routes: keys with `admin: true`, and loopback clients in
   * open mode (the operator on the machine). App keys (the default) may not.
   */
  admin: boolean;
}

export const LOOPBACK_PRINCIPAL = 'loopback';

export type AuthDecision =
  | { ok: true; principal: ApiPrincipal }
  | {
      ok: false;
      status: 401 | 403;
      code: typeof ErrorCodes.API_UNAUTHORIZED | typeof ErrorCodes.API_FORBIDDEN;
      message: string;
      /** Value for the WWW-Authenticate header (RFC 6750), on 401 only. */
      wwwAuthenticate?: string;
    };

export interface AuthRequest {
  /** The raw Authorization header, if any. */
  authorization: string | undefined;
  /** The client address as fastify reports it (request.ip; X-Forwarded-For when trustProxy is on). */
  ip: string | undefined;
  /**
   * The TCP peer (request.socket.remoteAddress). Open mode wants both on loopback: a forged
   * X-Forwarded-For cannot pass for loopback, nor can a remote client behind a local reverse proxy.
   */
  peer?: string | undefined;
}

/** Tokens longer than this are not hashed at all: no real key is that long. */
const MAX_TOKEN_LENGTH = 1024;
const BEARER = /^Bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i;

interface StoredKey {
  name: string;
  admin: boolean;
  digest: Buffer;
}

/**
 * Decides who a request is and whether it is an admin. App keys may use the verification routes;
 * admin routes (the blocklist) answer an app key 403 (see requireAdmin). In open mode (no keys
 * configured) loopback clients are admins and everyone else gets 403.
 */
export class ApiAuthenticator {
  private readonly keys: readonly StoredKey[];

  constructor(keys: readonly ApiKeyConfig[]) {
    this.keys = keys.map((k, i) => ({ name: k.name, admin: k.admin === true, digest: parseKeyHash(k.hash, i) }));
  }

  /** Open mode: no keys configured, the API serves loopback clients only. */
  get open(): boolean {
    return this.keys.length === 0;
  }

  authenticate(req: AuthRequest): AuthDecision {
    if (this.open) {
      const peerOk = !('peer' in req) || isLoopbackAddress(req.peer);
      if (isLoopbackAddress(req.ip) && peerOk) return { ok: true, principal: { name: LOOPBACK_PRINCIPAL, admin: true } };
      return {
        ok: false,
        status: 403,
        code: ErrorCodes.API_FORBIDDEN,
        message: 'no API keys are configured: the API accepts loopback clients only',
      };
    }
    if (req.authorization === undefined || req.authorization === '') {
      return unauthorized('missing Authorization header (expected "Bearer <api key>")', 'Bearer realm="ringproof"');
    }
    const m = BEARER.exec(req.authorization);
    const token = m?.[1];
    if (!token || token.length > MAX_TOKEN_LENGTH) {
      return unauthorized('malformed Authorization header (expected "Bearer <api key>")', 'Bearer realm="ringproof", error="invalid_request"');
    }
    const presented = createHash('sha256').update(token, 'utf8').digest();
    // Compare against every key, without stopping at a match, so timing says nothing about which key.
    let match: StoredKey | undefined;
    for (const key of this.keys) {
      if (timingSafeEqual(presented, key.digest) && match === undefined) match = key;
    }
    if (match === undefined) {
      return unauthorized('unknown API key', 'Bearer realm="ringproof", error="invalid_token"');
    }
    return { ok: true, principal: { name: match.name, admin: match.admin } };
  }
}

function unauthorized(message: string, wwwAuthenticate: string): AuthDecision {
  return { ok: false, status: 401, code: ErrorCodes.API_UNAUTHORIZED, message, wwwAuthenticate };
}

function parseKeyHash(hash: string, index: number): Buffer {
  const m = /^sha256:([0-9a-f]{64})$/i.exec(hash.trim());
  if (!m?.[1]) {
    throw new RingproofError(ErrorCodes.CONFIG_INVALID, `api.keys[${index}].hash: must be "sha256:" followed by 64 hex digits`);
  }
  return Buffer.from(m[1], 'hex');
}

/** The 403 an app key gets on an admin route. */
export function adminRequiredError(): ApiRequestError {
  return new ApiRequestError(
    ErrorCodes.API_ADMIN_REQUIRED, 403, 'this route needs an admin API key (api.keys[].admin: true); app keys may only manage verifications',
    undefined, { scope: 'admin' },
  );
}
