import { sha1Hex } from './verify-keys.js';
import type { Verification, WebhookEvent, WebhookEventType } from './verification-types.js';

/**
 * Stable per (session, type): every retry or re-emission carries the same id, so receivers dedupe.
 * `part` tells apart events of one type that happen more than once to a session (a flash call
 * placed on a second trunk after the first failed over).
 */
export function webhookEventId(sessionId: string, type: WebhookEventType, part = ''): string {
  return 'evt_' + sha1Hex(part === '' ? `${sessionId}:${type}` : `${sessionId}:${type}:${part}`);
}

export const EXPIRY_FALLBACK = { suggested: 'sms', reason: 'no call received before expiresAt' } as const;

/** Why an expired session suggests the fallback: for a flash call, what became of the call. */
export function fallbackReason(v: Verification): string {
  const f = v.flashCall;
  if (f === undefined) return EXPIRY_FALLBACK.reason;
  if (f.state === 'failed' && v.callTo !== undefined) return `the flash call failed (${f.failureClass ?? 'rejected'}) and no call to callTo came before expiresAt`;
  if (f.state === 'failed') return `the flash call failed (${f.failureClass ?? 'rejected'})`;
  if ((f.state === 'rang' || f.state === 'answered') && v.callTo !== undefined) return 'the flash call was not reported and no call to callTo came before expiresAt';
  if (f.state === 'rang' || f.state === 'answered') return 'the flash call was not reported before expiresAt';
  return 'no flash call rang before expiresAt';
}

/** Why a flash-call session fell back to the inbound flow: its call failed, or it rang unreported. */
export function inboundFallbackReason(v: Verification): string {
  const f = v.flashCall;
  if (f?.state === 'failed') return `the flash call failed (${f.failureClass ?? 'rejected'})`;
  return 'the flash call was not reported within outbound.reportWindowSeconds';
}

/** `at` is when the transition happened (stored in the session), so re-emissions are identical. */
export function verificationEvent(
  type: WebhookEventType, verification: Verification, at: number,
  extra: { part?: string; attempt?: WebhookEvent['data']['attempt'] } = {},
): WebhookEvent {
  const event: WebhookEvent = {
    id: webhookEventId(verification.id, type, extra.part),
    type,
    timestamp: new Date(at).toISOString(),
    data: { verification },
  };
  if (type === 'verification.expired') event.data.fallback = { suggested: 'sms', reason: fallbackReason(verification) };
  if (type === 'verification.fallback' && verification.callTo !== undefined) {
    event.data.fallback = { suggested: 'inbound_call', callTo: verification.callTo, reason: inboundFallbackReason(verification) };
  }
  if (extra.attempt !== undefined) event.data.attempt = extra.attempt;
  return event;
}
