import { Worker, type Job, type Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { AuditLog } from '../audit/audit-log.js';
import type { Logger } from '../log/logger.js';
import { closeWorker } from '../queue/close-worker.js';
import type { FlashCallEvent, FlashCallResult, FlashUac, TrunkAttempt } from '../sip/uac/index.js';
import { emitOnce } from '../verify/emit-once.js';
import { attemptRecord } from '../verify/flash-session.js';
import { FLASH_FALLBACK_JOB, FLASH_QUEUE, flashFallbackJobId, type FlashJobData } from '../verify/queue-names.js';
import { flashProgressScript, flashResultScript, flashStartScript, flashUnreportedScript } from '../verify/scripts/flash-scripts.js';
import { pairsToRecord, runScript } from '../verify/scripts/lua-script.js';
import { isPlausibleId } from '../verify/session-id.js';
import { toVerification } from '../verify/session-record.js';
import type { Verification, WebhookEmitter, WebhookEvent, WebhookEventType } from '../verify/verification-types.js';
import { DEFAULT_EXPIRY_GRACE_MS, DEFAULT_LATE_EVIDENCE_MS, DEFAULT_RETENTION_SECONDS } from '../verify/verify-defaults.js';
import { verifyKeys, type VerifyKeys } from '../verify/verify-keys.js';
import type { VerifyMetrics } from '../verify/verify-metrics.js';
import { verificationEvent } from '../verify/webhook-events.js';
import { WORKER_TIMING } from '../verify/worker-timing.js';
import type { CliDraw, CliFeedback, CliPool } from './cli-pool.js';

/** What places flash calls: the engine's UAC (native or drachtio, src/sip/engines/create-uac.ts). */
export type FlashPlacer = Pick<FlashUac, 'place'>;

export interface FlashWorkerOptions {
  /** BullMQ connection (maxRetriesPerRequest: null). */
  connection: Redis | Cluster;
  prefix: string;
  uac: FlashPlacer;
  pool: CliPool;
  /** outbound.trunks names, in failover order. */
  trunks: readonly string[];
  emitter: WebhookEmitter;
  defaultWebhookUrl?: string;
  audit: AuditLog;
  metrics: VerifyMetrics;
  /**
   * outbound.fallback inbound_call: a DID for a session whose call failed (undefined when none is in
   * service: the session then expires at once, as without a fallback).
   */
  fallbackDid?: () => Promise<string | undefined>;
  /**
   * With fallbackDid: the 'flash' queue, where a call that rang gets a delayed 'fallback' job due
   * `reportWindowMs` later (outbound.reportWindowSeconds): unreported by then, the session falls back.
   */
  fallbackQueue?: Pick<Queue<FlashJobData>, 'add'>;
  reportWindowMs?: number;
  /** Calls in progress at once (every trunk's maxConcurrent together). */
  concurrency: number;
  logger?: Logger;
  retentionSeconds?: number;
  clock?: () => number;
  autorun?: boolean;
}

export type FlashJobOutcome = 'skipped' | 'rang' | 'answered' | 'failed' | 'fallback' | 'no_did';

/**
 * Places the flash calls of the 'flash' queue (one job per flash-call session), in the process that
 * owns the UAC: records the attempt's progress and SIP history in the session, writes an audit
 * entry per trunk tried, and sends the verification.call_placed / ringing / answered / call_failed
 * webhooks. A failed call falls back to the inbound flow (outbound.fallback) or ends the session
 * expired (with the SMS hint) at once; a call that rang and got no correct report within
 * outbound.reportWindowSeconds falls back too (the queue's delayed 'fallback' job). A session is rung
 * at most once: the job is never retried, and a job handed out again finds it no longer `queued`.
 */
export class FlashWorker {
  readonly worker: Worker<FlashJobData, FlashJobOutcome>;
  private readonly redis: Redis | Cluster;
  private readonly keys: VerifyKeys;
  private readonly clock: () => number;

  constructor(private readonly opts: FlashWorkerOptions) {
    this.redis = opts.connection;
    this.keys = verifyKeys(opts.prefix);
    this.clock = opts.clock ?? Date.now;
    this.worker = new Worker<FlashJobData, FlashJobOutcome>(FLASH_QUEUE, (job) => this.process(job), {
      connection: opts.connection,
      prefix: opts.prefix,
      concurrency: opts.concurrency,
      ...WORKER_TIMING,
      // A stalled flash job is not run again: the call may already have rung.
      maxStalledCount: 0,
      autorun: opts.autorun ?? true,
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
    this.worker.on('error', (err) => opts.logger?.error({ err }, 'flash worker error'));
  }

  async close(): Promise<void> {
    await closeWorker(this.worker);
  }

  private process(job: Job<FlashJobData>): Promise<FlashJobOutcome> {
    return job.name === FLASH_FALLBACK_JOB ? this.fallBackUnreported(job.data.id) : this.handle(job.data.id);
  }

  /**
   * The report window of a call that rang has passed: a session still pending and not reported
   * falls back to the inbound flow (flashUnreportedScript decides, at most once). A run again finds
   * the fallback done and re-sends its webhook (same event id: receivers and the webhooks queue
   * dedupe it). No DID in service: nothing changes, and the session expires at expiresAt.
   */
  async fallBackUnreported(id: string): Promise<FlashJobOutcome> {
    if (typeof id !== 'string' || !isPlausibleId(id)) return 'skipped';
    const key = this.keys.sessionKey(id);
    const [status, phoneNumber, flashState] = await this.redis.hmget(key, 'status', 'phoneNumber', 'flashState');
    if (status !== 'pending' || !phoneNumber) return 'skipped';
    const did = await this.fallbackDid(id);
    if (did === undefined) {
      this.opts.logger?.warn({ verificationId: id, flashState }, 'flash fallback: no DID in service; the unreported session expires at expiresAt');
      return 'no_did';
    }
    const now = this.clock();
    const reply = (await runScript(this.redis, flashUnreportedScript, [key, this.keys.matchKey(did, phoneNumber), this.keys.pending], [
      now, did, DEFAULT_EXPIRY_GRACE_MS + DEFAULT_LATE_EVIDENCE_MS, this.keys.pendingChannel,
    ])) as [string, unknown];
    if (reply[0] === 'skip') return 'skipped';
    const h = pairsToRecord(reply[1]);
    if (reply[0] === 'fallback') {
      await this.opts.audit.append({ type: 'flash.fallback', at: now, data: { id, callTo: h.callTo, reason: 'unreported', flashState: h.flashState } });
    }
    await this.send(h, 'verification.fallback', Number(h.flashFallbackAt ?? now), {});
    return 'fallback';
  }

  /** A call that rang: its session falls back unless a correct report comes within the window. */
  private async scheduleFallback(id: string): Promise<void> {
    if (this.opts.fallbackQueue === undefined || this.opts.fallbackDid === undefined) return;
    await this.opts.fallbackQueue.add(FLASH_FALLBACK_JOB, { id }, {
      jobId: flashFallbackJobId(id), delay: this.opts.reportWindowMs ?? 0,
      // Retried on an error (Redis away): the script makes a second run harmless.
      attempts: 5, backoff: { type: 'exponential', delay: 500 },
    });
  }

  /** Places the session's flash call if it is still waiting for one; exposed for tests. */
  async handle(id: string): Promise<FlashJobOutcome> {
    if (typeof id !== 'string' || !isPlausibleId(id)) return 'skipped';
    const key = this.keys.sessionKey(id);
    const start = (await runScript(this.redis, flashStartScript, [key], [this.clock()])) as [string, string, string?];
    if (start[0] !== 'start') {
      this.opts.logger?.info({ verificationId: id, status: start[1], flashState: start[2] }, 'flash call not placed: the session no longer waits for one');
      return 'skipped';
    }
    const phoneNumber = start[1];
    const expiresAt = Number(start[2]);
    const draws = new Map<string, CliDraw>();
    // Progress is written in order, and all of it before the outcome.
    let progress: Promise<void> = Promise.resolve();
    const onEvent = (e: FlashCallEvent): void => {
      progress = progress.then(() => this.onProgress(id, e, draws)).catch((err: unknown) => {
        this.opts.logger?.warn({ err, verificationId: id, event: e.type }, 'flash call progress not recorded');
      });
    };
    let result: FlashCallResult;
    try {
      result = await this.opts.uac.place({
        to: phoneNumber,
        trunks: this.opts.trunks,
        cli: (trunk) => {
          const d = this.opts.pool.draw(trunk, phoneNumber);
          if (d !== undefined) draws.set(trunk, d);
          return d?.cli;
        },
        onEvent,
      });
    } catch (err) {
      this.opts.logger?.error({ err, verificationId: id }, 'flash call could not be placed');
      result = { outcome: 'failed', failureClass: 'network', trunk: undefined, cli: undefined, cancelConfirmed: false, attempts: [] };
    }
    await progress;
    for (const [trunk, d] of draws) this.opts.pool.release(d, phoneNumber, feedbackOf(result.attempts.find((a) => a.trunk === trunk)));
    await this.recordResult(id, phoneNumber, expiresAt, result);
    return result.outcome;
  }

  private async onProgress(id: string, e: FlashCallEvent, draws: ReadonlyMap<string, CliDraw>): Promise<void> {
    const now = this.clock();
    const key = this.keys.sessionKey(id);
    if (e.type === 'placed') {
      const h = pairsToRecord(await runScript(this.redis, flashProgressScript, [key], [now, 'flashTrunk', e.trunk]));
      await this.send(h, 'verification.call_placed', now, { part: e.trunk, attempt: { trunk: e.trunk } });
      return;
    }
    const cli = draws.get(e.trunk)?.cli ?? '';
    const h = pairsToRecord(await runScript(this.redis, flashProgressScript, [key], [
      now, 'flashState', 'ringing', 'flashTrunk', e.trunk, 'flashCli', cli, 'flashRingAt', now,
    ]));
    await this.send(h, 'verification.ringing', now, { attempt: { trunk: e.trunk, postDialDelayMs: e.postDialDelayMs } });
  }

  private async recordResult(id: string, phoneNumber: string, expiresAt: number, result: FlashCallResult): Promise<void> {
    const state = result.outcome;
    const shown = state === 'failed' ? '' : (result.cli ?? '');
    const did = state === 'failed' ? await this.fallbackDid(id) : undefined;
    const now = this.clock();
    const key = this.keys.sessionKey(id);
    const matchKey = did === undefined ? key : this.keys.matchKey(did, phoneNumber);
    const reply = (await runScript(this.redis, flashResultScript, [key, matchKey, this.keys.pending], [
      now, this.opts.retentionSeconds ?? DEFAULT_RETENTION_SECONDS, state, state === 'failed' ? (result.failureClass ?? 'rejected') : '',
      JSON.stringify(result.attempts.map(attemptRecord)), shown, did ?? '',
      expiresAt + DEFAULT_EXPIRY_GRACE_MS + DEFAULT_LATE_EVIDENCE_MS, this.keys.pendingChannel,
    ])) as [string, unknown];
    for (const a of result.attempts) {
      await this.opts.audit.append({ type: 'flash.attempt', at: now, data: { id, ...attemptRecord(a) } });
    }
    const h = pairsToRecord(reply[1]);
    const last = toVerification(h)?.flashCall?.attempts.at(-1);
    const attempt = last ?? { trunk: result.trunk ?? '' };
    if (state === 'answered') await this.send(h, 'verification.answered', now, { attempt });
    if (state !== 'failed') {
      if (h.status === 'pending') await this.scheduleFallback(id);
      return;
    }
    await this.send(h, 'verification.call_failed', now, { attempt });
    if (reply[0] === 'fallback') {
      await this.opts.audit.append({ type: 'flash.fallback', at: now, data: { id, callTo: did, reason: 'failed', failureClass: result.failureClass } });
      await this.send(h, 'verification.fallback', now, {});
      return;
    }
    if (reply[0] === 'expired') {
      this.opts.metrics.verificationsExpired.inc();
      await this.opts.audit.append({ type: 'session.expired', at: now, data: { id, reason: 'flash_call_failed', failureClass: result.failureClass } });
      const v = toVerification(h);
      const url = v?.callbackUrl ?? this.opts.defaultWebhookUrl;
      if (v === null) return;
      await emitOnce(this.redis, this.keys, id, 'expired', 'flash', async () => {
        if (url !== undefined) await this.opts.emitter.emit(verificationEvent('verification.expired', v, now), url);
      });
    }
  }

  private async fallbackDid(id: string): Promise<string | undefined> {
    try {
      return await this.opts.fallbackDid?.();
    } catch (err) {
      this.opts.logger?.warn({ err, verificationId: id }, 'flash fallback: no DID could be drawn; the session expires');
      return undefined;
    }
  }

  /** A progress webhook to the session's callback (or the default); none when neither is set. */
  private async send(h: Record<string, string>, type: WebhookEventType, at: number, extra: { part?: string; attempt?: WebhookEvent['data']['attempt'] }): Promise<void> {
    const v: Verification | null = toVerification(h);
    if (v === null) return;
    const url = v.callbackUrl ?? this.opts.defaultWebhookUrl;
    if (url === undefined) return;
    await this.opts.emitter.emit(verificationEvent(type, v, at, extra), url);
  }
}

/** How a CLI's call went, for resting CLIs that get answered too often. */
function feedbackOf(a: TrunkAttempt | undefined): CliFeedback {
  return a === undefined ? 'failed' : a.outcome;
}
