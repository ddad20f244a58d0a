import { sha1Hex } from './verify-keys.js';
import type { Verification, WebhookEvent, WebhookEventType } from './verification-types.js';

/** Stable per (session, type): every retry or re-emission carries the same id, so receivers dedupe. */
export function webhookEventId(sessionId: string, type: WebhookEventType): string {
  return 'evt_' + sha1Hex(`${sessionId}:${type}`);
}

export const EXPIRY_FALLBACK = { suggested: 'sms', reason: 'no call received before expiresAt' } as const;

/** `at` is when the transition happened (stored in the session), so re-emissions are identical. */
export function verificationEvent(type: WebhookEventType, verification: Verification, at: number): WebhookEvent {
  const event: WebhookEvent = {
    id: webhookEventId(verification.id, type),
    type,
    timestamp: new Date(at).toISOString(),
    data: { verification },
  };
  if (type === 'verification.expired') event.data.fallback = { ...EXPIRY_FALLBACK };
  return event;
}
