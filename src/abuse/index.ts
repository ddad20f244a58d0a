export type { AbuseEvent, AbuseEventSink, AbuseEventType, AbuseSubject, AbuseSubjectKind } from './abuse-event.js';
export { NO_ABUSE_EVENTS } from './abuse-event.js';
export { FloodGuard } from './flood-guard.js';
export { createFloodGuardMetrics, type FloodGuardMetrics } from './flood-guard-metrics.js';
export { WebhookAbuseEventSink, abuseWebhookEvent, abuseEventId, type AbuseEventQueue } from './abuse-webhook-sink.js';
export { BlocklistStore, blocklistKeys } from './blocklist-store.js';
export type { BlocklistEntry, BlocklistInput, BlocklistKind } from './blocklist-entry.js';
