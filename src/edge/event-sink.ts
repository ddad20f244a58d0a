import type { CallEvent } from './call-event.js';

/**
 * The seam between the SIP edge and whatever records calls (a log, BullMQ, a spool). `publish` must
 * not block the SIP path: implementations buffer and flush off the hot path.
 */
export interface EventSink {
  publish(event: CallEvent): void;
  /** Flush what is buffered; resolves when every published event is durable (or given up, counted). */
  close(): Promise<void>;
  /** False when the sink cannot currently accept work durably (used by /readyz). */
  readonly ready: boolean;
}
