import type { DeliverableEvent } from '../verify/verification-types.js';
import type { WebhookSigner } from './sign.js';

/**
 * The body and headers of one delivery attempt. The timestamp is fresh per attempt (receivers reject
 * stale ones, and a retry hours later must still verify); the id stays the event id, so receivers
 * can dedupe retries.
 */
export function signedRequest(signer: WebhookSigner, userAgent: string, event: DeliverableEvent): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(event);
  const ts = Math.floor(Date.now() / 1000);
  return {
    body,
    headers: { 'content-type': 'application/json', 'user-agent': userAgent, ...signer.headers(event.id, ts, body) },
  };
}
