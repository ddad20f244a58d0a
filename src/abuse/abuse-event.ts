/**
 * Automatic abuse actions as the rest of the system sees them (issue #10): an edge auto-blocking a
 * hammering CLI, a worker flagging an enumerated number block or a DID. Every such action is logged
 * with its reason and expiry, and handed to an AbuseEventSink (a signed `abuse.*` webhook when
 * `abuse.webhookUrl` is set). A flood-guard ban of a source address is local to one edge and only
 * logged and counted: it is no event.
 */

/** What an action was taken against. */
export type AbuseSubjectKind = 'number' | 'prefix' | 'name' | 'did' | 'block' | 'source';

export interface AbuseSubject {
  kind: AbuseSubjectKind;
  /** E.164 number, digit prefix with '+', caller name, DID, number block ("+1202555" + "*"), … */
  value: string;
}

/** The webhook event types: `abuse.blocked` (a blocklist entry written), `abuse.flagged` (a flag set). */
export type AbuseEventType = 'abuse.blocked' | 'abuse.flagged';

export interface AbuseEvent {
  type: AbuseEventType;
  subject: AbuseSubject;
  /** Machine-readable reason, e.g. `auto:hammering`, `auto:enumeration`. */
  reason: string;
  /** When the action lapses by itself (epoch ms); null = until removed. */
  expiresAt: number | null;
  /** When it was taken (epoch ms). */
  at: number;
  /** Which process took it ("edge", "worker") and anything the reason needs to be understood. */
  detail?: Record<string, string | number | boolean>;
}

/**
 * Where automatic abuse actions are reported. `emit` must not throw nor block the caller (it is
 * called from the edge's call path and the workers): implementations hand the event off and count
 * their own failures.
 */
export interface AbuseEventSink {
  emit(event: AbuseEvent): void;
  close(): Promise<void>;
}

/** The sink when no `abuse.webhookUrl` is configured: actions are logged by their taker, nothing is sent. */
export const NO_ABUSE_EVENTS: AbuseEventSink = Object.freeze({
  emit(): void {},
  close(): Promise<void> { return Promise.resolve(); },
});
