import { closeWorker } from '../queue/close-worker.js';
import { DelayedError, Worker, type Job } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { EXPIRY_QUEUE, type ExpiryJobData } from './queue-names.js';
import { DEFAULT_EXPIRY_GRACE_MS, DEFAULT_RETENTION_SECONDS } from './verify-defaults.js';
import { expireSessionScript } from './scripts/expire-session.js';
import { pairsToRecord, runScript } from './scripts/lua-script.js';
import { emitOnce } from './emit-once.js';
import { WORKER_TIMING } from './worker-timing.js';
import { isPlausibleId } from './session-id.js';
import { toVerification } from './session-record.js';
import { verifyKeys, type VerifyKeys } from './verify-keys.js';
import { verificationEvent } from './webhook-events.js';
import type { VerifyWorkerOptions } from './worker-options.js';

export interface ExpiryWorkerOptions extends VerifyWorkerOptions {
  /** Same grace as the store's: an early job is re-delayed to expiresAt + grace. */
  expiryGraceMs?: number;
}

export type ExpiryOutcome = 'expired' | 'already' | 'not_yet' | 'terminal' | 'missing';

export interface ExpiryResult {
  outcome: ExpiryOutcome;
  /** True when this run handed a verification.expired webhook to the emitter. */
  emitted: boolean;
  /** For not_yet: when the window ends (epoch ms). */
  expiresAt?: number;
}

/**
 * Consumes the 'expiry' queue (one delayed job per session at expiresAt + grace): a still-pending
 * session becomes expired and the app is told, with a hint to fall back to SMS. Terminal sessions are
 * left alone. A retry after a crash between the transition and the webhook emits again (same id).
 */
export class ExpiryWorker {
  readonly worker: Worker<ExpiryJobData, ExpiryResult>;
  private readonly redis: Redis | Cluster;
  private readonly keys: VerifyKeys;
  private readonly opts: ExpiryWorkerOptions;
  private readonly clock: () => number;

  constructor(opts: ExpiryWorkerOptions) {
    this.opts = opts;
    this.redis = opts.redis ?? opts.connection;
    this.keys = verifyKeys(opts.prefix);
    this.clock = opts.clock ?? Date.now;
    this.worker = new Worker<ExpiryJobData, ExpiryResult>(
      EXPIRY_QUEUE,
      (job, token) => this.process(job, token),
      {
        connection: opts.connection,
        prefix: opts.prefix,
        concurrency: opts.concurrency ?? 8,
        ...WORKER_TIMING,
        autorun: opts.autorun ?? true,
        removeOnComplete: { age: 3600, count: 10_000 },
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    );
    this.worker.on('error', (err) => opts.logger?.error({ err }, 'expiry worker error'));
  }

  run(): Promise<void> {
    return this.worker.run();
  }

  async close(): Promise<void> {
    await closeWorker(this.worker);
  }

  private async process(job: Job<ExpiryJobData>, token?: string): Promise<ExpiryResult> {
    const result = await this.handle(job.data.id);
    if (result.outcome === 'not_yet' && result.expiresAt !== undefined) {
      // The job ran before the window closed (clock skew between nodes): put it back.
      await job.moveToDelayed(result.expiresAt + (this.opts.expiryGraceMs ?? DEFAULT_EXPIRY_GRACE_MS), token);
      throw new DelayedError();
    }
    return result;
  }

  /** Expires one session if it is still pending; exposed for tests and tools. */
  async handle(sessionId: string): Promise<ExpiryResult> {
    if (typeof sessionId !== 'string' || !isPlausibleId(sessionId)) return { outcome: 'missing', emitted: false };
    const now = this.clock();
    const reply = (await runScript(this.redis, expireSessionScript, [this.keys.sessionKey(sessionId)], [
      now, this.opts.retentionSeconds ?? DEFAULT_RETENTION_SECONDS,
    ])) as [ExpiryOutcome, unknown];
    const outcome = reply[0];
    if (outcome === 'not_yet') return { outcome, emitted: false, expiresAt: Number(reply[1]) };
    if (outcome !== 'expired' && outcome !== 'already') return { outcome, emitted: false };

    const h = pairsToRecord(reply[1]);
    const session = toVerification(h);
    if (!session) return { outcome: 'missing', emitted: false };
    if (outcome === 'expired') {
      this.opts.metrics.verificationsExpired.inc();
      await this.opts.audit.append({ type: 'session.expired', at: now, data: { id: sessionId, expiresAt: Date.parse(session.expiresAt) } });
    }
    if (h.notified === 'expired') return { outcome, emitted: false };
    const url = session.callbackUrl ?? this.opts.defaultWebhookUrl;
    if (!url) this.opts.logger?.warn({ sessionId }, 'expired session has no callbackUrl and no webhooks.defaultUrl');
    const at = h.expiredAt ? Number(h.expiredAt) : now;
    const emitted = await emitOnce(this.redis, this.keys, sessionId, 'expired', 'expiry', async () => {
      if (url) await this.opts.emitter.emit(verificationEvent('verification.expired', session, at), url);
    });
    return { outcome, emitted: emitted && url !== undefined };
  }
}
