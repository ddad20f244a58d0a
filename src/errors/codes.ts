/**
 * The error catalogue. Codes are stable: operators grep logs for them and tests assert on them.
 * Add new codes here, never reuse a retired one.
 */
export const ErrorCodes = {
  /** A configuration key has a bad value or is unknown. */
  CONFIG_INVALID: 'RP_CONFIG_INVALID',
  /** The configuration file cannot be read or parsed. */
  CONFIG_UNREADABLE: 'RP_CONFIG_UNREADABLE',
  /** A listen address cannot be bound (in use, no permission, bad address). */
  LISTEN_FAILED: 'RP_LISTEN_FAILED',
  /** A SIP message could not be parsed. */
  SIP_PARSE: 'RP_SIP_PARSE',
  /** A phone number could not be normalized to E.164. */
  NUMBER_INVALID: 'RP_NUMBER_INVALID',
  /** The number policy refuses this number for this method (rule, country and type in the error). */
  NUMBER_REFUSED: 'RP_NUMBER_REFUSED',
  /** The carrier lookup failed (timeout, error, nonsense) and numbers.carrierLookup.onError is refuse: a 503. */
  NUMBER_LOOKUP_FAILED: 'RP_NUMBER_LOOKUP_FAILED',
  /** A session-creation limit is full (per number, prefix, country, API key or client address): 429 with Retry-After. */
  CREATION_LIMITED: 'RP_CREATION_LIMITED',
  /** redis-server is needed (embedded mode) but not installed. */
  REDIS_MISSING: 'RP_REDIS_MISSING',
  /** The embedded redis-server failed to start or died. */
  REDIS_EMBEDDED_FAILED: 'RP_REDIS_EMBEDDED_FAILED',
  /** Shutdown: a part (the workers) did not stop within its share of the grace period and was left behind. */
  SHUTDOWN_PART_ABANDONED: 'RP_SHUTDOWN_PART_ABANDONED',
  /** The local event spool is full; an event was not stored. */
  SPOOL_FULL: 'RP_SPOOL_FULL',
  /** HTTP API: request body or parameters failed validation. */
  API_VALIDATION: 'RP_API_VALIDATION',
  /** HTTP API: missing or unknown credentials. */
  API_UNAUTHORIZED: 'RP_API_UNAUTHORIZED',
  /** HTTP API: credentials valid but not allowed. */
  API_FORBIDDEN: 'RP_API_FORBIDDEN',
  /** HTTP API: an app key on an admin route (the blocklist): 403. */
  API_ADMIN_REQUIRED: 'RP_API_ADMIN_REQUIRED',
  /** HTTP API: no such resource. */
  API_NOT_FOUND: 'RP_API_NOT_FOUND',
  /** HTTP API: request conflicts with the resource state. */
  API_CONFLICT: 'RP_API_CONFLICT',
  /** HTTP API: no new work taken for now (Redis near its memory ceiling); retry after Retry-After. */
  API_UNAVAILABLE: 'RP_API_UNAVAILABLE',
  /** Webhook delivery failed (non-2xx, timeout, connection error). */
  WEBHOOK_DELIVERY: 'RP_WEBHOOK_DELIVERY',
  /** Outbound HTTP (webhook, certificate fetch) refused: the destination is not a public address. */
  EGRESS_REFUSED: 'RP_EGRESS_REFUSED',
  /** The drachtio-server connection failed or was lost. */
  DRACHTIO_CONNECTION: 'RP_DRACHTIO_CONNECTION',
  /** Another ringproof process owns the state directory. */
  STATE_DIR_LOCKED: 'RP_STATE_DIR_LOCKED',
  /** Internal invariant broken; a bug. */
  INTERNAL: 'RP_INTERNAL',
  /** Role all with pipeline.workerThread: the workers' thread failed to start or died; the daemon stops. */
  WORKER_THREAD_FAILED: 'RP_WORKER_THREAD_FAILED',
  /** CLI: the ringproof HTTP API could not be reached (connection refused, timeout, bad reply). */
  API_UNREACHABLE: 'RP_API_UNREACHABLE',
  /** A flash call named an outbound trunk that is not configured: nothing was sent. */
  FLASH_TRUNK_UNKNOWN: 'RP_FLASH_TRUNK_UNKNOWN',
  /** HTTP API (422): method flash_call cannot be served (no outbound trunk configured). */
  FLASH_CALL_UNAVAILABLE: 'RP_FLASH_CALL_UNAVAILABLE',
  /** HTTP API (422): a verification's callerTrustPolicy is looser than the `trust` policy and trust.perVerification is tighten. */
  CALLER_TRUST_POLICY_REFUSED: 'RP_CALLER_TRUST_POLICY_REFUSED',
  /** HTTP API (429): this number got outbound.perNumber flash calls in the window; retry after Retry-After. */
  FLASH_THROTTLED: 'RP_FLASH_THROTTLED',
  /** HTTP API (409): the session takes no report now: not a flash call, no call has rung yet, or it has ended. */
  REPORT_NOT_ACCEPTED: 'RP_REPORT_NOT_ACCEPTED',
  /** HTTP API (410): the flash-call session expired before the report (or its call failed). */
  REPORT_EXPIRED: 'RP_REPORT_EXPIRED',
  /** HTTP API (422): the reported caller ID or code is not the one that rang; tries are left. */
  REPORT_MISMATCH: 'RP_REPORT_MISMATCH',
  /** HTTP API (422): the reported caller ID or code was wrong and that was the last try: the session failed. */
  REPORT_TRIES_EXHAUSTED: 'RP_REPORT_TRIES_EXHAUSTED',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];
