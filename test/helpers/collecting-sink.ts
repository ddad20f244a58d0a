import type { CallEvent } from '../../src/edge/call-event.js';
import type { EventSink } from '../../src/edge/event-sink.js';

/** An always-ready EventSink that keeps every published event, for asserting what the edge handed on. */
export class CollectingSink implements EventSink {
  readonly events: CallEvent[] = [];
  readonly ready = true;
  publish(event: CallEvent): void {
    this.events.push(event);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
