/** Defaults of the verification side; each can be overridden through the constructors' options. */

/** Idempotency keys are honoured for 24 h, as most payment/messaging APIs do. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;
/** Session records (and their match keys) are kept this long after a terminal state, then Redis drops them. */
export const DEFAULT_RETENTION_SECONDS = 7 * 24 * 3600;
/**
 * The expiry job runs this long after expiresAt: a call received just before expiresAt may still be
 * in the calls queue, and it must get its chance to verify before the session is declared expired.
 */
export const DEFAULT_EXPIRY_GRACE_MS = 2000;
/** Clock skew allowed between the API node stamping createdAt and the edge stamping receivedAt. */
export const DEFAULT_SKEW_MS = 1000;
/** How long a Call-ID's decision is remembered; longer than any job retry or spool replay. */
export const DEFAULT_CALL_RECORD_TTL_SECONDS = 48 * 3600;
