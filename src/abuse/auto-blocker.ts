import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../log/logger.js';
import { reuseMetric } from '../metrics/reuse-metric.js';
import type { AbuseEvent, AbuseEventSink } from './abuse-event.js';
import type { BlocklistEntry, BlocklistInput } from './blocklist-entry.js';

export interface AutoBlockerOptions {
  /** Writes automatic entries, one write for all (BlocklistStore.addMany with createdBy "auto"). */
  addMany: (inputs: readonly BlocklistInput[]) => Promise<BlocklistEntry[]>;
  /** Puts the entry in this edge's copy at once, before the announcement comes back. */
  putLocal: (entry: BlocklistEntry) => void;
  events: AbuseEventSink;
  logger: Logger;
  registry: Registry;
  /** How long entries gather before they are written together; 0 = at the end of the event-loop turn. */
  batchMs?: number;
}

/** Entries written in one store call at most. */
const MAX_BATCH = 500;
/** A batch with more entries than this is logged as one summary line per reason, not a line per entry. */
const LOG_EACH_UP_TO = 10;
/** Entries a summary line shows (masked, as each detector logs them). */
const SUMMARY_SAMPLE = 5;

interface Pending {
  b: AutoBlock;
  now: number;
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
 * The one way the edge's anomaly detectors act: the entry goes into this edge's copy at once and,
 * with the others flagged within `batchMs`, into the shared blocklist store in one write and one
 * announcement (so every edge enforces it, and the API and CLI show and lift it); once stored, it
 * is logged with reason and expiry (a batch of more than LOG_EACH_UP_TO as one summary line per
 * reason), counted, and reported to the abuse event sink. A store that does not answer leaves the
 * entries in force on this edge only, until its next reload (logged and counted as failed).
 */
export class AutoBlocker {
  private readonly blocks: Counter<'reason' | 'result'>;
  private readonly batchMs: number;
  private pending: Pending[] = [];
  /** Cancels the pending flush's timer; set while one is armed. */
  private cancelFlush: (() => void) | undefined;
  /** Writes not settled yet (close() waits for them). */
  private readonly writing = new Set<Promise<void>>();

  constructor(private readonly opts: AutoBlockerOptions) {
    const name = 'ringproof_auto_blocks_total';
    this.blocks = reuseMetric(opts.registry, name, () => new Counter({
      name,
      help: 'Automatic blocklist entries written by the edge (reason auto:hammering, auto:enumeration), by result (ok, failed)',
      labelNames: ['reason', 'result'] as const,
      registers: [opts.registry],
    }));
    this.batchMs = opts.batchMs ?? 100;
  }

  /**
   * In force on this edge at once; stored, announced, logged and reported with the others of its
   * batch. A flood of spoofed numbers spread over many blocks flags hundreds of blocks a second, and
   * a Redis write, an announcement and a log line each were enough to starve the SIP edge.
   */
  block(b: AutoBlock, now: number): void {
    const { input } = b;
    this.opts.putLocal({ ...input, createdAt: now, createdBy: 'auto' });
    this.pending.push({ b, now });
    if (this.pending.length >= MAX_BATCH) this.flush();
    else if (this.cancelFlush === undefined) {
      if (this.batchMs > 0) {
        const t = setTimeout(() => this.flush(), this.batchMs).unref();
        this.cancelFlush = () => clearTimeout(t);
      } else {
        const t = setImmediate(() => this.flush()).unref();
        this.cancelFlush = () => clearImmediate(t);
      }
    }
  }

  /**
   * Writes what is pending now; resolves once every write so far has settled, or after `waitMs`
   * (Redis may be the reason of the shutdown, and the entries are reloaded by no one then anyway).
   */
  async close(waitMs = 2000): Promise<void> {
    this.flush();
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, waitMs);
      timer.unref();
    });
    await Promise.race([Promise.all(this.writing), gaveUp]);
    clearTimeout(timer);
  }

  private flush(): void {
    this.cancelFlush?.();
    this.cancelFlush = undefined;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const write = this.opts.addMany(batch.map((p) => p.b.input))
      .then(
        () => this.stored(batch),
        (err: Error) => this.failed(batch, err),
      )
      // A throwing event sink or logger must not become an unhandled rejection.
      .catch((err: unknown) => this.opts.logger.error({ err }, 'automatic blocks: reporting a stored batch failed'));
    this.writing.add(write);
    void write.finally(() => this.writing.delete(write));
  }

  private stored(batch: Pending[]): void {
    for (const { b, now } of batch) {
      const { input } = b;
      this.blocks.inc({ reason: input.reason, result: 'ok' });
      this.opts.events.emit({ ...b.event, reason: input.reason, expiresAt: input.expiresAt, at: now });
    }
    this.log(batch, undefined);
  }

  private failed(batch: Pending[], err: Error): void {
    for (const { b } of batch) this.blocks.inc({ reason: b.input.reason, result: 'failed' });
    this.log(batch, err);
  }

  private log(batch: Pending[], err: Error | undefined): void {
    const notStored = 'automatic block not stored (Redis unavailable): in force on this edge only until its next reload';
    if (batch.length <= LOG_EACH_UP_TO) {
      for (const { b } of batch) {
        const fields = entryFields(b);
        if (err === undefined) this.opts.logger.warn(fields, b.message);
        else this.opts.logger.warn({ ...fields, err: err.message }, notStored);
      }
      return;
    }
    const byReason = new Map<string, AutoBlock[]>();
    for (const { b } of batch) {
      const list = byReason.get(b.input.reason);
      if (list === undefined) byReason.set(b.input.reason, [b]);
      else list.push(b);
    }
    for (const [reason, list] of byReason) {
      const fields = {
        reason, count: list.length, sample: list.slice(0, SUMMARY_SAMPLE).map(entryFields), ...(err === undefined ? {} : { err: err.message }),
      };
      this.opts.logger.warn(fields, err === undefined ? `automatic blocks: ${list.length} entries at once (${(list[0] as AutoBlock).message})` : notStored);
    }
  }
}

function entryFields(b: AutoBlock): Record<string, unknown> {
  return { ...b.log, reason: b.input.reason, expiresAt: new Date(b.input.expiresAt).toISOString() };
}
