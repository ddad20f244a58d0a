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
/**
 * A number stays in the edges' pending-number set this long after its session's expiry (+ grace), so
 * a late call is still queued and decided by the worker: "late" evidence on the session, not noise.
 */
export const DEFAULT_LATE_EVIDENCE_MS = 5 * 60_000;
/** Clock skew allowed between the API node stamping createdAt and the edge stamping receivedAt. */
export const DEFAULT_SKEW_MS = 1000;
/**
 * How long a Call-ID's decision is remembered (dedupe): the carrier's retransmission window (~32 s),
 * a resend from another edge, a job retried after its worker died (lock 10 s + stall check 5 s) and
 * an edge re-sending batches after a Redis restart all fall inside it. Past it a resend is decided
 * again: harmless for a call that verified (the session names its Call-ID), a double count otherwise.
 */
export const DEFAULT_DEDUPE_WINDOW_SECONDS = 60;
