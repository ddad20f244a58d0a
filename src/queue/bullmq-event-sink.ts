import { Queue } from 'bullmq';
import type { CallEvent } from '../edge/call-event.js';
import type { EventSink } from '../edge/event-sink.js';
import type { Logger } from '../log/logger.js';
import { isRedisReady, type RedisConnection } from '../redis/redis-connection.js';
import type { DiskSpool } from '../spool/disk-spool.js';
import { CALL_BATCH_JOB_NAME, type CallBatch } from './call-batch.js';
import { batchJobId } from './call-job-id.js';
import { CALL_JOB_OPTIONS } from './call-job-options.js';
import { CALLS_QUEUE } from './queue-names.js';
import type { QueueMetrics } from './queue-metrics.js';
import type { CandidateFilter } from './pending-numbers.js';

export interface BullmqEventSinkOptions {
  /** A `createRedis(url, {role: 'producer'})` connection; the caller keeps ownership. */
  connection: RedisConnection;
  /** BullMQ prefix: `bullmqPrefix(config.redis.keyPrefix)`. */
  prefix: string;
  /** Where batches go while Redis is unreachable. The sink closes it in close(). */
  spool: DiskSpool<CallEvent>;
  batchSize: number;
  batchDelayMs: number;
  metrics: QueueMetrics;
  logger: Logger;
  /** Events held in memory at most; past it the buffer is written to the spool at once. */
  maxBuffered?: number;
  /** A batch not acknowledged by Redis within this time is treated as failed (and spooled). */
  addTimeoutMs?: number;
  /** Backoff between attempts to drain the spool while Redis stays unreachable. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /**
   * Batches Redis acknowledged are kept in memory this long and sent again when the connection comes
   * back after a loss: Redis under appendfsync everysec may have acknowledged them without writing
   * them out (see docs/memory-model.md, durability). Default 3000 ms; 0 turns it off.
   */
  resendWindowMs?: number;
  /**
   * The pending-number pre-filter. With it, calls from numbers with a pending session (candidates)
   * are flushed at once and queued in the candidate lane (plain jobs, which BullMQ hands out before
   * any prioritized one); the others go in the unsolicited lane (priority 1) and may be shed.
   * Without it, every call is a plain job and nothing is shed.
   */
  candidates?: CandidateFilter;
  /** Shed unsolicited calls while `shedding` is true (and the pre-filter is synced). */
  pressure?: { readonly shedding: boolean };
  /**
   * Confirms a batch reached the Redis replicas (ReplicaWait, redis.waitReplicas). A batch not
   * confirmed is treated as not sent: it goes to the spool and is sent again until it is, so a
   * replica promoted after its master died holds every batch the edge let go of.
   */
  replicas?: { afterWrite(): Promise<boolean> };
}

/** BullMQ priority of unsolicited-lane batches; candidate batches have none, so they are taken first. */
export const UNSOLICITED_PRIORITY = 1;

/**
 * EventSink that turns CallEvents into jobs of the BullMQ "calls" queue.
 *
 * publish() only appends to an in-memory batch; one timer (batchDelayMs) or a full batch
 * (batchSize) starts a single flush loop, so at most one batch add is in flight and, under load,
 * batches grow to batchSize by themselves while the previous one is on the wire.
 *
 * When Redis is unreachable (or does not answer within addTimeoutMs) the batch is appended to the
 * DiskSpool. While the spool holds anything, new batches go to the spool too, and the loop sends
 * the spool to Redis first, oldest first, once Redis is back (on the connection's "ready" event,
 * and on a capped backoff timer). Each batch is one job (see call-batch.ts); a batch that reached
 * Redis although its reply was lost is deduplicated when sent again (job id from its Call-IDs, and
 * the worker's Call-ID dedupe).
 *
 * The window Redis may lose: with appendfsync everysec a redis-server killed right after replying can
 * lose what it acknowledged in its last ~2 s (a write postponed behind a slow fsync). So acknowledged
 * batches stay in memory for resendWindowMs; when the connection comes back after a loss they are
 * sent again before anything else, and the worker's dedupe drops what Redis had kept.
 */
export class BullmqEventSink implements EventSink {
  private readonly queue: Queue;
  private readonly conn: RedisConnection;
  private readonly spool: DiskSpool<CallEvent>;
  private readonly metrics: QueueMetrics;
  private readonly logger: Logger;
  private readonly batchSize: number;
  private readonly batchDelayMs: number;
  private readonly maxBuffered: number;
  private readonly addTimeoutMs: number;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private buffer: CallEvent[] = [];
  private readonly resendWindowMs: number;
  /** Acknowledged batches of the last resendWindowMs, oldest first. */
  private recent: Array<{ at: number; events: readonly CallEvent[] }> = [];
  /** Batches to send again after a lost connection, before the spool and new events. */
  private resend: Array<readonly CallEvent[]> = [];
  private wasReady = false;
  /** Events of the batch add in flight. */
  private sending = 0;
  /** A candidate waits in the buffer: flush without waiting for the batch delay. */
  private urgent = false;
  private readonly candidates: CandidateFilter | undefined;
  private readonly pressure: { readonly shedding: boolean } | undefined;
  private prefilter: { offer(e: CallEvent): boolean; readonly held: number } | undefined;
  private readonly replicas: { afterWrite(): Promise<boolean> } | undefined;
  private shedSinceLog = 0;
  private lastShedLog = 0;
  private batchTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay: number;
  private immediate: NodeJS.Immediate | undefined;
  private pumping: Promise<void> | undefined;
  private closing = false;
  private closingDone: Promise<void> | undefined;
  private closed = false;
  private lastFailureLog = 0;
  private readonly onReady = (): void => {
    this.retryDelay = this.retryMinMs;
    if (this.wasReady && this.recent.length > 0) {
      // Redis may have restarted and lost what it acknowledged last: send it again.
      this.resend.push(...this.recent.map((r) => r.events));
      this.metrics.eventsResent.inc(this.recent.reduce((n, r) => n + r.events.length, 0));
      this.recent = [];
    }
    this.wasReady = true;
    if (this.spool.size > 0 || this.buffer.length > 0 || this.resend.length > 0) this.kick();
  };

  constructor(opts: BullmqEventSinkOptions) {
    this.conn = opts.connection;
    this.spool = opts.spool;
    this.metrics = opts.metrics;
    this.logger = opts.logger;
    this.batchSize = Math.max(1, opts.batchSize);
    this.batchDelayMs = Math.max(0, opts.batchDelayMs);
    this.maxBuffered = Math.max(this.batchSize, opts.maxBuffered ?? Math.max(10_000, this.batchSize * 50));
    this.addTimeoutMs = opts.addTimeoutMs ?? 5000;
    this.retryMinMs = opts.retryMinMs ?? 100;
    this.retryMaxMs = opts.retryMaxMs ?? 5000;
    this.retryDelay = this.retryMinMs;
    this.resendWindowMs = Math.max(0, opts.resendWindowMs ?? 3000);
    this.wasReady = isRedisReady(this.conn);
    this.candidates = opts.candidates;
    this.pressure = opts.pressure;
    this.replicas = opts.replicas;
    this.queue = new Queue(CALLS_QUEUE, { connection: opts.connection, prefix: opts.prefix });
    // Queue re-emits connection errors; the connection's owner logs those.
    this.queue.on('error', () => undefined);
    this.conn.on('ready', this.onReady);
    this.metrics.watchSpool(this.spool);
    if (this.spool.size > 0) {
      this.logger.info({ spooled: this.spool.size }, 'calls sink: spooled events from a previous run will be sent first');
      this.kick();
    }
  }

  /** Redis connectivity (see createRedis role "producer"). */
  get ready(): boolean {
    return !this.closed && isRedisReady(this.conn);
  }

  /** Events not yet acknowledged by Redis: in memory (held, buffered, being sent, to re-send) plus on disk. */
  get backlog(): number {
    return this.buffer.length + this.sending + this.spool.size + this.resend.reduce((n, b) => n + b.length, 0) + (this.prefilter?.held ?? 0);
  }

  publish(event: CallEvent): void {
    if (this.closed) {
      this.metrics.eventsPublished.inc({ result: 'overflow' });
      this.logger.error({ callId: event.callId }, 'calls sink: event published after close; dropped');
      return;
    }
    const filter = this.candidates;
    const candidate = filter !== undefined && event.cli !== null && filter.has(event.cli);
    // A call that cannot match a session may be decided at the edge (no per-call Redis work).
    if (!candidate && this.prefilter?.offer(event) === true) return;
    this.enqueue(event, candidate);
  }

  /**
   * The edge decides calls that cannot match a session (EdgePrefilter); it hands back to enqueue()
   * the calls it does not decide. Set once, before the first publish.
   */
  attachPrefilter(p: { offer(e: CallEvent): boolean; readonly held: number }): void {
    this.prefilter = p;
  }

  /** The queue path of one call: the candidate lane, or the unsolicited lane (which may be shed). */
  enqueue(event: CallEvent, candidate: boolean): void {
    const filter = this.candidates;
    // Only a current pre-filter may decide that a call cannot verify anything.
    if (!candidate && filter !== undefined && this.pressure?.shedding === true && filter.synced) {
      this.shed(event);
      return;
    }
    // A candidate goes to the front and does not wait for the batch to fill: its user is waiting
    // for the webhook. (Candidates are rare, so the front insert costs nothing that matters.)
    if (candidate) {
      this.buffer.unshift(event);
      this.urgent = true;
    } else {
      this.buffer.push(event);
    }
    if (this.buffer.length >= this.maxBuffered) {
      // Redis is slow or gone and the loop is stuck on it: keep memory bounded by going to disk now.
      this.toSpool(this.buffer.splice(0));
      return;
    }
    this.schedule();
  }

  /**
   * Flush now when a candidate waits or a batch is full, else at most batchDelayMs from now. Waiting
   * for the delay is what makes batches large at moderate rates: sending whatever accumulated during
   * the previous add made batches of a dozen calls, and the queue's cost is per batch.
   */
  private schedule(): void {
    if (this.urgent || this.buffer.length >= this.batchSize) this.kick();
    else this.batchTimer ??= setTimeout(() => { this.batchTimer = undefined; this.kick(); }, this.batchDelayMs);
  }

  /** Memory goes to Redis (if it is up and nothing older is spooled) or else to the spool, which is synced. */
  close(): Promise<void> {
    this.closingDone ??= this.doClose();
    return this.closingDone;
  }

  private async doClose(): Promise<void> {
    this.closing = true;
    this.clearTimers();
    await this.pumping;
    // Events published while the last pass awaited Redis are taken by the next pass.
    do await this.pump(); while (this.buffer.length > 0);
    this.closed = true;
    this.conn.off('ready', this.onReady);
    // With Redis down, Queue.close() may wait on its connection: do not let that hold shutdown.
    await Promise.race([this.queue.close().catch(() => undefined), delay(2000)]);
    await this.spool.close();
  }

  private kick(): void {
    if (this.closing || this.pumping || this.immediate) return;
    // Deferred so publish() returns at once; the flush runs on the next loop turn.
    this.immediate = setImmediate(() => {
      this.immediate = undefined;
      this.startPump();
    });
  }

  private startPump(): void {
    if (this.pumping || this.closing) return;
    if (this.batchTimer) { clearTimeout(this.batchTimer); this.batchTimer = undefined; }
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
      // Events published while the last send was in flight.
      if (this.buffer.length > 0 && !this.closing) this.schedule();
    });
  }

  /** Sends until memory and spool are empty or Redis fails; never throws. */
  private async pump(): Promise<void> {
    let sent = false;
    for (;;) {
      const again = this.resend[0];
      if (again) {
        if (this.closing || !isRedisReady(this.conn)) {
          // Not sent again before close or while Redis is away: keep them on disk.
          this.toSpool([...again]);
          this.resend.shift();
          continue;
        }
        if (!(await this.send(again))) {
          this.resend.shift();
          this.toSpool([...again]);
          this.scheduleRetry();
          return;
        }
        this.resend.shift();
        continue;
      }
      if (this.spool.size > 0) {
        // Older events first: whatever is in memory joins the spool's tail.
        if (this.buffer.length > 0) this.toSpool(this.buffer.splice(0));
        if (this.closing || !isRedisReady(this.conn)) {
          this.scheduleRetry();
          return;
        }
        const batch = this.spool.read(this.batchSize);
        if (batch.records.length === 0) {
          // size says records remain but none can be read: never spin on it.
          this.logger.error({ spooled: this.spool.size }, 'calls sink: spool reports records but returned none');
          this.scheduleRetry();
          return;
        }
        if (!(await this.send(batch.records, true))) {
          this.scheduleRetry();
          return;
        }
        this.spool.ack(batch);
        this.metrics.spoolDrained.inc(batch.records.length);
        this.retryDelay = this.retryMinMs;
        if (this.spool.size === 0) this.logger.info('calls sink: spool drained to Redis');
        continue;
      }
      if (this.buffer.length === 0) return;
      // After one batch, only a full one, a waiting candidate or a close goes on at once (see schedule()).
      if (sent && !this.closing && !this.urgent && this.buffer.length < this.batchSize) return;
      this.urgent = false;
      sent = true;
      const batch = this.buffer.splice(0, this.batchSize);
      if (isRedisReady(this.conn) && (await this.send(batch))) {
        this.metrics.eventsPublished.inc({ result: 'queued' }, batch.length);
        continue;
      }
      this.toSpool(batch);
      this.scheduleRetry();
      if (!this.closing) return;
    }
  }

  /** `onDisk`: the events are read from the spool, which still counts them in backlog. */
  private async send(events: readonly CallEvent[], onDisk = false): Promise<boolean> {
    this.sending = onDisk ? 0 : events.length;
    try {
      if (!(await this.add(events))) return false;
      // Not on a replica yet: not sent. The job id (from the Call-IDs) makes the re-send a no-op.
      if (this.replicas && !(await this.replicas.afterWrite())) return false;
      this.remember(events);
      return true;
    } finally {
      this.sending = 0;
    }
  }

  /** The batch's jobs added within addTimeoutMs; never throws. */
  private async add(events: readonly CallEvent[]): Promise<boolean> {
    const added = this.queue.addBulk(this.jobsOf(events));
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        added,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`batch add not acknowledged within ${this.addTimeoutMs} ms`)), this.addTimeoutMs);
        }),
      ]);
      return true;
    } catch (err) {
      added.catch(() => undefined); // a late outcome is irrelevant: the batch is re-sent from the spool
      this.logFailure(err as Error, events.length);
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** One job per lane present in the batch: candidates as plain jobs, the rest prioritized behind them. */
  private jobsOf(events: readonly CallEvent[]): Array<{ name: string; data: CallBatch; opts: typeof CALL_JOB_OPTIONS }> {
    const filter = this.candidates;
    const job = (part: CallEvent[], priority?: number): { name: string; data: CallBatch; opts: typeof CALL_JOB_OPTIONS } => ({
      name: CALL_BATCH_JOB_NAME,
      data: { v: 1, events: part },
      opts: { ...CALL_JOB_OPTIONS, jobId: batchJobId(part), ...(priority !== undefined ? { priority } : {}) },
    });
    if (filter === undefined) return [job(events as CallEvent[])];
    const first: CallEvent[] = [];
    const rest: CallEvent[] = [];
    for (const e of events) (e.cli !== null && filter.has(e.cli) ? first : rest).push(e);
    const jobs = [];
    if (first.length > 0) jobs.push(job(first));
    if (rest.length > 0) jobs.push(job(rest, UNSOLICITED_PRIORITY));
    return jobs;
  }

  /** Drops an unsolicited call the pipeline cannot take now: counted, logged at most every 10 s. */
  private shed(event: CallEvent): void {
    this.metrics.eventsPublished.inc({ result: 'shed' });
    this.shedSinceLog++;
    const now = Date.now();
    if (now - this.lastShedLog < 10_000) return;
    this.logger.warn({ shed: this.shedSinceLog, trunk: event.trunk },
      'calls sink: workers are behind on unsolicited calls (or Redis is near its memory ceiling); shedding them, counted in ringproof_events_published_total{result="shed"}');
    this.lastShedLog = now;
    this.shedSinceLog = 0;
  }

  /** Keeps an acknowledged batch for resendWindowMs (see the class comment). */
  private remember(events: readonly CallEvent[]): void {
    if (this.resendWindowMs === 0) return;
    const now = Date.now();
    this.recent.push({ at: now, events });
    let drop = 0;
    while (drop < this.recent.length && now - (this.recent[drop] as { at: number }).at > this.resendWindowMs) drop++;
    if (drop > 0) this.recent.splice(0, drop);
  }

  private toSpool(events: CallEvent[]): void {
    if (events.length === 0) return;
    const r = this.spool.append(events);
    if (r.stored > 0) this.metrics.eventsPublished.inc({ result: 'spooled' }, r.stored);
    if (r.dropped > 0) {
      this.metrics.eventsPublished.inc({ result: 'overflow' }, r.dropped);
      this.metrics.spoolOverflow.inc(r.dropped);
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.closing) return;
    const d = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, this.retryMaxMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, d);
  }

  private clearTimers(): void {
    if (this.batchTimer) clearTimeout(this.batchTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.immediate) clearImmediate(this.immediate);
    this.batchTimer = undefined;
    this.retryTimer = undefined;
    this.immediate = undefined;
  }

  private logFailure(err: Error, events: number): void {
    const now = Date.now();
    if (now - this.lastFailureLog < 10_000) return;
    this.lastFailureLog = now;
    this.logger.warn({ err: err.message, events, redisStatus: this.conn.status, spooled: this.spool.size },
      'calls sink: Redis did not take a batch; spooling until it is back');
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms).unref());
}
