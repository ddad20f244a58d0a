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
  | 'session.expired';

export interface AuditEntry {
  type: AuditEntryType;
  /** Epoch ms the thing happened (by the writer's clock; the stream id carries Redis's time). */
  at: number;
  data: Record<string, unknown>;
}

/** One exported line: the stream id, the entry, its time as ISO. */
export interface AuditRecord {
  id: string;
  type: AuditEntryType | string;
  at: string;
  data: Record<string, unknown>;
}

export const DEFAULT_AUDIT_MAX_LEN = 1_000_000;
