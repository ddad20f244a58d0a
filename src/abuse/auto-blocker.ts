import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../log/logger.js';
import { reuseMetric } from '../metrics/reuse-metric.js';
import type { AbuseEvent, AbuseEventSink } from './abuse-event.js';
import type { BlocklistEntry, BlocklistInput } from './blocklist-entry.js';

export interface AutoBlockerOptions {
  /** Writes the automatic entry (BlocklistStore.add with createdBy "auto"). */
  add: (input: BlocklistInput) => Promise<BlocklistEntry>;
  /** Puts the entry in this edge's copy at once, before the announcement comes back. */
  putLocal: (entry: BlocklistEntry) => void;
  events: AbuseEventSink;
  logger: Logger;
  registry: Registry;
}

/** What a detector reports with an automatic entry. */
export interface AutoBlock {
  input: BlocklistInput & { expiresAt: number };
  /** The abuse event sent once the entry is stored (its reason and expiry are the entry's). */
  event: Pick<AbuseEvent, 'type' | 'subject' | 'detail'>;
  /** Logged with the reason and expiry; never a raw number (mask it). */
  log: Record<string, unknown>;
  message: string;
}

/**
 * The one way the edge's anomaly detectors act: the entry goes into this edge's copy at once and
 * into the shared blocklist store (so every edge enforces it, and the API and CLI show and lift
 * it); once stored, it is logged with reason and expiry, counted, and reported to the abuse event
 * sink. A store that does not answer leaves the entry in force on this edge only, until its next
 * reload (logged and counted as failed).
 */
export class AutoBlocker {
  private readonly blocks: Counter<'reason' | 'result'>;

  constructor(private readonly opts: AutoBlockerOptions) {
    const name = 'ringproof_auto_blocks_total';
    this.blocks = reuseMetric(opts.registry, name, () => new Counter({
      name,
      help: 'Automatic blocklist entries written by the edge (reason auto:hammering, auto:enumeration), by result (ok, failed)',
      labelNames: ['reason', 'result'] as const,
      registers: [opts.registry],
    }));
  }

  block(b: AutoBlock, now: number): void {
    const { input } = b;
    this.opts.putLocal({ ...input, createdAt: now, createdBy: 'auto' });
    const fields = { ...b.log, reason: input.reason, expiresAt: new Date(input.expiresAt).toISOString() };
    this.opts.add(input).then(
      () => {
        this.blocks.inc({ reason: input.reason, result: 'ok' });
        this.opts.logger.warn(fields, b.message);
        this.opts.events.emit({ ...b.event, reason: input.reason, expiresAt: input.expiresAt, at: now });
      },
      (err: Error) => {
        this.blocks.inc({ reason: input.reason, result: 'failed' });
        this.opts.logger.warn({ ...fields, err: err.message }, 'automatic block not stored (Redis unavailable): in force on this edge only until its next reload');
      },
    );
  }
}
