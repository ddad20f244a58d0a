/**
 * The audit trail: consent evidence for every call event and every session transition. Entries hold
 * full phone numbers (that is their purpose) and live only in Redis; they are never logged.
 */
export type AuditEntryType =
  | 'call'
  | 'session.created'
  | 'session.superseded'
  | 'session.cancelled'
  | 'session.verified'
  | 'session.expired'
  /** A flash-call session failed: its reports were all wrong. */
  | 'session.failed'
  /** One trunk's try of a flash call: trunk, caller ID, SIP statuses, timings, outcome (issue #12). */
  | 'flash.attempt'
  /** A failed flash call turned its session into an inbound one (outbound.fallback): the DID given. */
  | 'flash.fallback'
  /** A report of the caller ID (or code) that rang, and whether it matched. */
  | 'flash.report';

export interface AuditEntry {
  type: AuditEntryType;
  /** Epoch ms the thing happened (by the writer's clock; the stream id carries Redis's time). */
  at: number;
  data: Record<string, unknown>;
}

/** One exported line: the stream id, the entry, its time as ISO. */
export interface AuditRecord {
  id: string;
  trail: AuditTrail;
  type: AuditEntryType | string;
  at: string;
  data: Record<string, unknown>;
}

/** Which trail a record comes from: session evidence, or the capped record of unsolicited calls. */
export type AuditTrail = 'evidence' | 'noise';

/** Retention of the audit trails and aggregates (config `audit`). */
export interface AuditSettings {
  /** Session events and calls that concern a session are kept this long, whatever the call volume. */
  evidenceRetentionDays: number;
  /** Entries kept (approximately) in the noise trail. */
  noiseMaxEntries: number;
  /** One unsolicited call in this many is written to the noise trail (all are counted). */
  noiseSampleEvery: number;
  /**
   * Of those, an edge writes at most this many a second: under a flood the capped trail turned
   * over within seconds, and each entry cost a JSON encoding and a stream write on the INVITE path.
   */
  noiseMaxPerSecond: number;
  /** Per-minute counts and hourly top talkers of unsolicited calls are kept this long. */
  aggregateRetentionHours: number;
  /** CLIs kept per hour in the top-talkers set. */
  topTalkers: number;
}

export const DEFAULT_AUDIT_SETTINGS: Readonly<AuditSettings> = Object.freeze({
  evidenceRetentionDays: 400,
  noiseMaxEntries: 10_000,
  noiseSampleEvery: 10,
  noiseMaxPerSecond: 100,
  aggregateRetentionHours: 48,
  topTalkers: 200,
});
