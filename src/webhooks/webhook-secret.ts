import { randomBytes } from 'node:crypto';
import { ErrorCodes } from '../errors/codes.js';
import { RingproofError } from '../errors/ringproof-error.js';

/** Standard Webhooks secrets are "whsec_" followed by the base64 of the raw HMAC key. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/** Shorter keys are guessable; the spec recommends 24–64 bytes, we refuse anything under 16. */
export const MIN_WEBHOOK_KEY_BYTES = 16;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Decodes a "whsec_..." secret to its HMAC key. Throws RP_CONFIG_INVALID naming the problem, so the
 * config validator can call it too. The secret itself never appears in the message.
 */
export function parseWebhookSecret(secret: string, path = 'webhooks.secrets'): Buffer {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) {
    throw new RingproofError(ErrorCodes.CONFIG_INVALID, `${path}: a webhook secret must start with "whsec_"`);
  }
  const b64 = secret.slice(WEBHOOK_SECRET_PREFIX.length);
  // Buffer.from(..., 'base64') silently skips junk, so check the alphabet first.
  if (!BASE64.test(b64) || b64.length % 4 !== 0) {
    throw new RingproofError(ErrorCodes.CONFIG_INVALID, `${path}: the part after "whsec_" must be standard base64`);
  }
  const key = Buffer.from(b64, 'base64');
  if (key.length < MIN_WEBHOOK_KEY_BYTES) {
    throw new RingproofError(
      ErrorCodes.CONFIG_INVALID,
      `${path}: a webhook secret must decode to at least ${MIN_WEBHOOK_KEY_BYTES} bytes (got ${key.length})`,
    );
  }
  return key;
}

/** A fresh random secret (32-byte key), e.g. for the zero-config demo or `ringproof` tooling. */
export function generateWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + randomBytes(32).toString('base64');
}
