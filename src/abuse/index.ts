export type { AbuseEvent, AbuseEventSink, AbuseEventType, AbuseSubject, AbuseSubjectKind } from './abuse-event.js';
export { NO_ABUSE_EVENTS } from './abuse-event.js';
export { FloodGuard } from './flood-guard.js';
export { createFloodGuardMetrics, type FloodGuardMetrics } from './flood-guard-metrics.js';
