import { isCallLimitOutcome } from '../limits/call-limit-defaults.js';
import { parseCallerTrust, isCallerTrustOutcome } from '../trust/call-trust.js';
import type { PhoneNumberInfo } from '../numbers/number-types.js';
import type { CallerTrustPolicy } from '../trust/caller-trust-types.js';
import { policyCode, policyOfCode } from '../trust/session-trust-policy.js';
import { flashCallView } from './flash-session.js';
import type { CancelReason, FlashSessionInput, Verification, VerificationStatus } from './verification-types.js';

/**
 * How a session is stored: one Redis hash, times as epoch milliseconds (so Lua can compare them),
 * metadata as JSON. The owner (API key name) is kept for audit but not exposed.
 */
export interface SessionHash {
  id: string;
  status: VerificationStatus;
  phoneNumber: string;
  /** '' for a flash-call session (no DID). */
  callTo: string;
  owner: string;
  createdAt: number;
  expiresAt: number;
  callbackUrl?: string;
  metadata?: Record<string, unknown>;
  phoneNumberInfo?: PhoneNumberInfo;
  /** The session's own caller-trust policy, stored as its number (trustPolicy) for the decision script. */
  trustPolicy?: CallerTrustPolicy;
  flash?: FlashSessionInput;
}

/** Field/value list for HSET. */
export function sessionFields(s: SessionHash): string[] {
  const f = [
    'id', s.id, 'status', s.status, 'phoneNumber', s.phoneNumber, 'callTo', s.callTo,
    'owner', s.owner, 'createdAt', String(s.createdAt), 'expiresAt', String(s.expiresAt),
    'updatedAt', String(s.createdAt),
  ];
  if (s.callbackUrl !== undefined) f.push('callbackUrl', s.callbackUrl);
  if (s.metadata !== undefined) f.push('metadata', JSON.stringify(s.metadata));
  if (s.phoneNumberInfo !== undefined) f.push('phoneNumberInfo', JSON.stringify(s.phoneNumberInfo));
  if (s.trustPolicy !== undefined) f.push('trustPolicy', String(policyCode(s.trustPolicy)));
  if (s.flash !== undefined) {
    f.push(
      'method', 'flash_call', 'flashState', 'queued', 'flashPatterns', JSON.stringify(s.flash.cliPatterns),
      'flashWaitSeconds', String(s.flash.waitSeconds), 'flashReportsMax', String(s.flash.reportsMax), 'flashReportTries', '0',
    );
  }
  return f;
}

export const VERIFICATION_STATUSES = ['pending', 'verified', 'expired', 'cancelled', 'blocked', 'failed'] as const;
const STATUSES: ReadonlySet<string> = new Set(VERIFICATION_STATUSES);

function iso(ms: string | undefined): string | undefined {
  if (ms === undefined || ms === '') return undefined;
  const n = Number(ms);
  return Number.isFinite(n) ? new Date(n).toISOString() : undefined;
}

/** Hash → public shape; null when the hash is empty or not a session. */
export function toVerification(h: Record<string, string>): Verification | null {
  if (!h.id || !h.status || !STATUSES.has(h.status)) return null;
  const v: Verification = {
    id: h.id,
    status: h.status as VerificationStatus,
    phoneNumber: h.phoneNumber ?? '',
    ...(h.method === 'flash_call' ? { method: 'flash_call' as const } : {}),
    // A flash-call session has a DID only once it fell back to the inbound flow.
    ...(h.method !== 'flash_call' || h.callTo ? { callTo: h.callTo ?? '' } : {}),
    createdAt: iso(h.createdAt) ?? '',
    expiresAt: iso(h.expiresAt) ?? '',
  };
  const verifiedAt = iso(h.verifiedAt);
  if (verifiedAt) v.verifiedAt = verifiedAt;
  if (h.callbackUrl) v.callbackUrl = h.callbackUrl;
  if (h.metadata) v.metadata = JSON.parse(h.metadata) as Record<string, unknown>;
  if (h.callId) v.callId = h.callId;
  if (h.callReceivedAt) v.callReceivedAt = Number(h.callReceivedAt);
  if (h.cancelReason === 'superseded' || h.cancelReason === 'requested') {
    v.cancelReason = h.cancelReason as CancelReason;
  }
  const trust = parseCallerTrust(h.callerTrust);
  if (trust !== undefined) v.callerTrust = trust;
  const rejectedAt = iso(h.lastRejectedAt);
  if ((isCallerTrustOutcome(h.lastRejection) || isCallLimitOutcome(h.lastRejection)) && rejectedAt !== undefined) v.lastRejection = { reason: h.lastRejection, at: rejectedAt };
  if (h.phoneNumberInfo) v.phoneNumberInfo = JSON.parse(h.phoneNumberInfo) as PhoneNumberInfo;
  const policy = policyOfCode(h.trustPolicy);
  if (policy !== undefined) v.callerTrustPolicy = { ...policy };
  // The caller IDs that rang are shown whole only once the session is over: a pending session's
  // view must not hand out its own answer.
  const flash = flashCallView(h, h.status !== 'pending');
  if (flash !== undefined) v.flashCall = flash;
  return v;
}
