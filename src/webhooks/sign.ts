import { createHmac, timingSafeEqual } from 'node:crypto';
import type { WebhookConfig } from '../config/config-types.js';
import { ErrorCodes } from '../errors/codes.js';
import { RingproofError } from '../errors/ringproof-error.js';
import { parseWebhookSecret } from './webhook-secret.js';

/** The three Standard Webhooks headers, lower-case as sent. */
export interface WebhookSignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** Header bags we can read: fetch `Headers`, node's IncomingHttpHeaders, or a plain record. */
export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

export type WebhookVerifyResult =
  | { ok: true; timestamp: number }
  | { ok: false; reason: 'missing-headers' | 'bad-timestamp' | 'timestamp-out-of-tolerance' | 'no-matching-signature' };

function hmac(key: Buffer, msgId: string, timestampSeconds: number, body: string | Buffer): Buffer {
  return createHmac('sha256', key).update(`${msgId}.${timestampSeconds}.`).update(body).digest();
}

function checkTimestamp(ts: number): void {
  if (!Number.isSafeInteger(ts) || ts < 0) {
    throw new RingproofError(ErrorCodes.INTERNAL, `webhook timestamp must be whole seconds, got ${ts}`);
  }
}

/**
 * Signs with every configured secret. Keys are decoded once here, not per delivery. Listing several
 * secrets is how rotation works: receivers holding the old or the new secret both find a match.
 */
export class WebhookSigner {
  private readonly keys: readonly Buffer[];

  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) {
      throw new RingproofError(ErrorCodes.CONFIG_INVALID, 'webhooks.secrets: at least one "whsec_..." secret is required to sign webhooks');
    }
    const unique = [...new Set(secrets)];
    this.keys = unique.map((s, i) => parseWebhookSecret(s, `webhooks.secrets[${i}]`));
  }

  static fromConfig(config: Pick<WebhookConfig, 'secrets'>): WebhookSigner {
    return new WebhookSigner(config.secrets);
  }

  /** The `webhook-signature` value: "v1,<b64>" per secret, space-separated. */
  sign(msgId: string, timestampSeconds: number, body: string): string {
    checkTimestamp(timestampSeconds);
    return this.keys.map((k) => `v1,${hmac(k, msgId, timestampSeconds, body).toString('base64')}`).join(' ');
  }

  headers(msgId: string, timestampSeconds: number, body: string): WebhookSignatureHeaders {
    return {
      'webhook-id': msgId,
      'webhook-timestamp': String(timestampSeconds),
      'webhook-signature': this.sign(msgId, timestampSeconds, body),
    };
  }
}

/** One-shot form of WebhookSigner.sign; prefer the class on hot paths. */
export function signWebhook(secrets: string[], msgId: string, timestampSeconds: number, body: string): string {
  return new WebhookSigner(secrets).sign(msgId, timestampSeconds, body);
}

function header(headers: HeaderSource, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const rec = headers;
  let v = rec[name];
  if (v === undefined) {
    const key = Object.keys(rec).find((k) => k.toLowerCase() === name);
    v = key === undefined ? undefined : rec[key];
  }
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Verifies a received webhook as a receiver would (for our CLI and tests). Accepts the request if
 * any "v1," signature matches (constant-time compare) and the timestamp is within tolerance.
 */
export function verifyWebhook(
  secret: string,
  headers: HeaderSource,
  body: string | Buffer,
  toleranceSec = 300,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): WebhookVerifyResult {
  const key = parseWebhookSecret(secret);
  const id = header(headers, 'webhook-id');
  const tsText = header(headers, 'webhook-timestamp');
  const sigs = header(headers, 'webhook-signature');
  if (!id || !tsText || !sigs) return { ok: false, reason: 'missing-headers' };
  if (!/^\d{1,15}$/.test(tsText)) return { ok: false, reason: 'bad-timestamp' };
  const ts = Number(tsText);
  if (Math.abs(nowSeconds - ts) > toleranceSec) return { ok: false, reason: 'timestamp-out-of-tolerance' };
  const expected = hmac(key, id, ts, body);
  for (const part of sigs.split(' ')) {
    const comma = part.indexOf(',');
    if (comma < 0 || part.slice(0, comma) !== 'v1') continue;
    const got = Buffer.from(part.slice(comma + 1), 'base64');
    if (got.length === expected.length && timingSafeEqual(got, expected)) return { ok: true, timestamp: ts };
  }
  return { ok: false, reason: 'no-matching-signature' };
}
