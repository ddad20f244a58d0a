import type { Logger } from '../log/logger.js';
import { maskNumber } from '../log/mask.js';
import type { CallEvent } from './call-event.js';
import type { EventSink } from './event-sink.js';

/**
 * An EventSink that only logs each CallEvent at debug level: for the edge-only demo, tests and
 * troubleshooting. Numbers are masked here (the logger's redaction would mask them too; masking is
 * idempotent, so both together are harmless).
 */
export class LogSink implements EventSink {
  readonly ready = true;

  constructor(private readonly logger: Logger) {}

  publish(event: CallEvent): void {
    if (!this.logger.isLevelEnabled('debug')) return;
    this.logger.debug(
      {
        event: {
          ...event,
          cli: maskNumber(event.cli),
          cliRaw: maskNumber(event.cliRaw),
          did: maskNumber(event.did),
          didRaw: maskNumber(event.didRaw),
        },
      },
      'call event',
    );
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
