import type { PhoneNumberInfo } from '../numbers/number-types.js';
import type { CliPattern, FlashAttemptView, FlashCallView } from './flash-session.js';

/** Verification sessions: the shapes shared by the store, the worker, the API and webhooks. */

import type { CallerTrustSummary } from '../trust/call-trust.js';
import type { CallRefusal } from '../trust/call-trust.js';
import type { CallerTrustPolicy } from '../trust/caller-trust-types.js';

/** `failed`: a flash-call session whose reports were all wrong (outbound.reportAttempts). */
export type VerificationStatus = 'pending' | 'verified' | 'expired' | 'cancelled' | 'blocked' | 'failed';

export interface Verification {
  id: string;
  status: VerificationStatus;
  /** E.164 number being verified. */
  phoneNumber: string;
  /** `flash_call` for a flash-call session (ringproof rings the user); absent for inbound_call. */
  method?: 'flash_call';
  /** E.164 DID the user must call; absent for a flash-call session. */
  callTo?: string;
  /** ISO 8601 times. */
  createdAt: string;
  expiresAt: string;
  verifiedAt?: string;
  callbackUrl?: string;
  metadata?: Record<string, unknown>;
  /** Call-ID of the call that verified it. */
  callId?: string;
  /** Epoch ms (fraction allowed) the verifying INVITE was received. */
  callReceivedAt?: number;
  /** Why a cancelled session was cancelled: a newer session for the number, or a DELETE. */
  cancelReason?: CancelReason;
  /** The caller-trust verdict of the call that verified the session. */
  callerTrust?: CallerTrustSummary;
  /**
   * The session's own caller-trust policy (the app's callerTrustPolicy, its unset fields taken from
   * the `trust` configuration at creation); absent = the deployment's `trust` policy applies.
   */
  callerTrustPolicy?: CallerTrustPolicy;
  /**
   * Why the latest call that matched this session was refused (its caller ID failed validation, or
   * lacked the attestation the policy asks), and when: a spoofing attempt, or a carrier that lost the
   * STIR/SHAKEN result. The session stays open to a genuine call.
   */
  lastRejection?: { reason: CallRefusal; at: string };
  /** What the number policy found at creation (country, type, how): the app may decide its fallback by it. */
  phoneNumberInfo?: PhoneNumberInfo;
  /** A flash-call session's attempt: what to recognise, its state and SIP history. */
  flashCall?: FlashCallView;
}

export type CancelReason = 'superseded' | 'requested';

export interface CreateVerificationInput {
  phoneNumber: string;
  ttlSeconds: number;
  callbackUrl?: string;
  metadata?: Record<string, unknown>;
  idempotencyKey?: string;
  /** API key name, to scope idempotency keys. */
  owner: string;
  phoneNumberInfo?: PhoneNumberInfo;
  /** The session's own caller-trust policy, resolved against the `trust` configuration. */
  trustPolicy?: CallerTrustPolicy;
  /** A flash-call session: no DID is drawn; the call is placed by the flash worker. */
  flash?: FlashSessionInput;
}

/** What a flash-call session is created with (from outbound.*, fixed for the session's life). */
export interface FlashSessionInput {
  cliPatterns: CliPattern[];
  waitSeconds: number;
  /** Reports allowed before a wrong one fails the session. */
  reportsMax: number;
}

/** What a call did to the sessions; 'rejected': it matched a pending session but the caller-trust policy refused it (detail says why). */
export type CallOutcome = 'verified' | 'unsolicited' | 'withheld' | 'duplicate' | 'late' | 'invalid' | 'rejected' | 'blocked';

export interface VerificationStore {
  create(input: CreateVerificationInput): Promise<{ verification: Verification; replayed: boolean }>;
  /**
   * The session an earlier create with this owner's idempotency key made, or null. Looked up before
   * the creation checks, so a retry gets its original answer even when a limit has filled since.
   */
  findReplay(owner: string, idempotencyKey: string): Promise<Verification | null>;
  get(id: string): Promise<Verification | null>;
  /** Cancels a pending session; returns the session after, or null when unknown. */
  cancel(id: string): Promise<Verification | null>;
}

export const FLASH_WEBHOOK_TYPES = [
  'verification.call_placed', 'verification.ringing', 'verification.call_failed', 'verification.answered',
  'verification.fallback',
] as const;

export type WebhookEventType = 'verification.verified' | 'verification.expired' | (typeof FLASH_WEBHOOK_TYPES)[number];

/** The JSON body of a webhook. `id` is stable across retries so receivers can dedupe. */
export interface WebhookEvent {
  id: string;
  type: WebhookEventType;
  /** ISO time the event happened. */
  timestamp: string;
  data: {
    verification: Verification;
    /**
     * On expiry: tells the app to fall back to another channel (sms). On verification.fallback: the
     * flash-call session now takes the user's call to `callTo` (inbound_call).
     */
    fallback?: { suggested: 'sms'; reason: string } | { suggested: 'inbound_call'; callTo: string; reason: string };
    /** Flash-call events: the trunk try the event is about (its caller ID masked until the session ends). */
    attempt?: FlashAttemptView | { trunk: string; postDialDelayMs?: number };
  };
}

/**
 * The JSON body of an `abuse.*` webhook (src/abuse): an automatic action taken against a caller,
 * a number block or a DID. Signed and delivered like the verification events.
 */
export interface AbuseWebhookEvent {
  id: string;
  type: 'abuse.blocked' | 'abuse.flagged';
  timestamp: string;
  data: {
    abuse: {
      subject: { kind: string; value: string };
      reason: string;
      /** ISO time the action lapses; null = until removed. */
      expiresAt: string | null;
      detail?: Record<string, string | number | boolean>;
    };
  };
}

/** Any event the webhooks queue delivers. */
export type DeliverableEvent = WebhookEvent | AbuseWebhookEvent;

/** The seam from the verify worker to webhook delivery. */
export interface WebhookEmitter {
  emit(event: WebhookEvent, url: string): Promise<void>;
}
