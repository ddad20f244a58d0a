import { createHash } from 'node:crypto';

/**
 * Redis key names of the verification data. Every key starts with the hash-tagged prefix (e.g.
 * "{ringproof}") so all of them live in one Cluster slot: the Lua scripts touch several at once, and
 * derive session keys from `session` + id inside the script, as BullMQ's own scripts do.
 */
export interface VerifyKeys {
  /** Prefix of session hashes: `${session}${id}`. */
  readonly session: string;
  sessionKey(id: string): string;
  /** The newest session for a phone number (for supersede). */
  phoneKey(phoneNumber: string): string;
  /** (DID, phone number) → session id: what the call worker looks up. */
  matchKey(did: string, phoneNumber: string): string;
  /** Idempotency key of one API key owner. Hashed so client-chosen text never shapes key names. */
  idempotencyKey(owner: string, key: string): string;
  /** `${matchPrefix}${did}:${phoneNumber}` is matchKey (the call script builds it in Lua). */
  readonly matchPrefix: string;
  /** Call-ID decisions of one dedupe time bucket (a hash, field = 16 hex digits of the Call-ID's SHA-1). */
  dedupeKey(bucket: number): string;
  /** Counts of calls that concern no session, for one minute (epoch minute): field trunk|DID|outcome. */
  aggregateKey(minute: number): string;
  /** CLIs of unsolicited calls with their counts, for one hour (epoch hour), capped. */
  talkersKey(hour: number): string;
  /** Lease held while one delivery emits a session's webhook for a status. */
  emitClaimKey(sessionId: string, status: string): string;
  /** `${emitClaimPrefix}${sessionId}:${status}` is emitClaimKey (the call script builds it in Lua). */
  readonly emitClaimPrefix: string;
  /** Sorted set: phone numbers with a pending session → its expiresAt (the edges' pre-filter). */
  readonly pending: string;
  /** Pub/sub channel announcing "number expiresAt" of each new session. */
  readonly pendingChannel: string;
  /** The evidence trail: session events and calls that concern a session (time retention). */
  readonly audit: string;
  /** The noise trail: a capped, sampled record of calls that concern no session. */
  readonly noise: string;
}

export function sha1Hex(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

export function verifyKeys(prefix: string): VerifyKeys {
  const session = `${prefix}:vrf:`;
  return {
    session,
    sessionKey: (id) => session + id,
    phoneKey: (phoneNumber) => `${prefix}:vphone:${phoneNumber}`,
    matchKey: (did, phoneNumber) => `${prefix}:vmatch:${did}:${phoneNumber}`,
    matchPrefix: `${prefix}:vmatch:`,
    idempotencyKey: (owner, key) =>
      `${prefix}:idem:${createHash('sha256').update(owner).update('\n').update(key).digest('hex')}`,
    dedupeKey: (bucket) => `${prefix}:dd:${bucket}`,
    aggregateKey: (minute) => `${prefix}:agg:${minute}`,
    talkersKey: (hour) => `${prefix}:talk:${hour}`,
    emitClaimKey: (sessionId, status) => `${prefix}:vemit:${sessionId}:${status}`,
    emitClaimPrefix: `${prefix}:vemit:`,
    pending: `${prefix}:vpending`,
    pendingChannel: `${prefix}:vpending:new`,
    audit: `${prefix}:audit`,
    noise: `${prefix}:audit:calls`,
  };
}
