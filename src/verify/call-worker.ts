import { Worker, type Job } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { CallEvent } from '../edge/call-event.js';
import { maskNumber } from '../log/mask.js';
import { CallerTrustDecider, verdictTrust } from '../trust/call-trust.js';
import type { CallerTrustPolicy } from '../trust/caller-trust-types.js';
import type { CallerTrustVerifier } from '../trust/stir-shaken-types.js';
import { CALLS_QUEUE } from './queue-names.js';
import { DEFAULT_CALL_RECORD_TTL_SECONDS, DEFAULT_RETENTION_SECONDS, DEFAULT_SKEW_MS } from './verify-defaults.js';
import { DEFAULT_EMIT_LEASE_MS, emitClaimed } from './emit-once.js';
import { WORKER_TIMING } from './worker-timing.js';
import { pairsToRecord, runScript } from './scripts/lua-script.js';
import { processCallScript } from './scripts/process-call.js';
import { toVerification } from './session-record.js';
import { UnmarkedEmits } from './unmarked-emits.js';
import type { CallOutcome, Verification } from './verification-types.js';
import { verifyKeys, type VerifyKeys } from './verify-keys.js';
import { verificationEvent } from './webhook-events.js';
import type { VerifyWorkerOptions } from './worker-options.js';

export interface CallWorkerOptions extends VerifyWorkerOptions {
  skewMs?: number;
  callRecordTtlSeconds?: number;
  /**
   * Events the emitter delivered itself (DirectFirstEmitter's onDelivered), shared by the call workers
   * of a process (see UnmarkedEmits); default: one per worker, never filled.
   */
  unmarked?: UnmarkedEmits;
  /** The `trust` configuration: what a matching call needs to verify; default DEFAULT_CALLER_TRUST_POLICY. */
  trust?: CallerTrustPolicy;
  /** Counts refusals by reason; absent in tests that do not look. */
  onTrustRefusal?: (reason: string) => void;
  /**
   * STIR/SHAKEN Identity verification (trust.identity); absent when no trust anchors are configured.
   * Only calls that carry an Identity header and match a pending session pay for it.
   */
  identity?: CallerTrustVerifier;
}

export interface CallResult {
  /** What this delivery of the call did ('duplicate' when an earlier delivery decided). */
  outcome: CallOutcome;
  /** The decision of the first delivery, when this one is a duplicate. */
  firstOutcome?: CallOutcome;
  sessionId?: string;
  /** Why, for non-verified outcomes: no_session, call_before_session, after_expiry, … */
  detail?: string;
  /** True when this delivery handed a verified webhook to the emitter. */
  emitted: boolean;
}

function isCallEvent(e: unknown): e is CallEvent {
  const c = e as Partial<CallEvent> | null;
  return !!c && typeof c === 'object' && c.v === 1 && typeof c.callId === 'string' && c.callId !== ''
    && typeof c.receivedAt === 'number' && Number.isFinite(c.receivedAt);
}

/**
 * Consumes the 'calls' queue: dedupe by Call-ID, match (DID, CLI), verify atomically, emit the
 * verified webhook, audit and count every outcome.
 *
 * Crash safety: the decision, the Call-ID record, the audit entries and the emit claim are written
 * by one script, and the webhook is marked as handed over only after emit() resolved (with a
 * direct-first emitter, after the receiver's 2xx or the queue add). A delivery that finds a verified decision whose
 * webhook was not marked (the previous one died, or emit failed and the job is retried) emits again
 * with the same event id; delivery is at-least-once and receivers/queue dedupe by that id.
 */
export class CallWorker {
  readonly worker: Worker<CallEvent, CallResult>;
  private readonly redis: Redis | Cluster;
  private readonly keys: VerifyKeys;
  private readonly opts: CallWorkerOptions;
  private readonly clock: () => number;
  private readonly unmarked: UnmarkedEmits;
  private readonly trust: CallerTrustDecider;

  constructor(opts: CallWorkerOptions) {
    this.opts = opts;
    this.trust = new CallerTrustDecider(opts.trust);
    this.unmarked = opts.unmarked ?? new UnmarkedEmits();
    this.redis = opts.redis ?? opts.connection;
    this.keys = verifyKeys(opts.prefix);
    this.clock = opts.clock ?? Date.now;
    this.worker = new Worker<CallEvent, CallResult>(CALLS_QUEUE, (job: Job<CallEvent>) => this.handle(job.data), {
      connection: opts.connection,
      prefix: opts.prefix,
      concurrency: opts.concurrency ?? 16,
      ...WORKER_TIMING,
      autorun: opts.autorun ?? true,
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600, count: 100_000 },
    });
    this.worker.on('error', (err) => opts.logger?.error({ err }, 'calls worker error'));
    this.worker.on('failed', (job, err) =>
      opts.logger?.warn({ err, jobId: job?.id, attempts: job?.attemptsMade }, 'call job failed'));
  }

  run(): Promise<void> {
    return this.worker.run();
  }

  async close(): Promise<void> {
    await this.worker.close();
  }

  /** Processes one CallEvent; what the BullMQ processor runs, exposed for tests and tools. */
  async handle(event: CallEvent): Promise<CallResult> {
    if (!isCallEvent(event)) {
      // Not retryable: a malformed job never becomes valid.
      await this.record(event as unknown as Record<string, unknown>, { outcome: 'invalid', detail: 'malformed_event', emitted: false });
      this.opts.metrics.callOutcomes.inc({ outcome: 'invalid' });
      return { outcome: 'invalid', detail: 'malformed_event', emitted: false };
    }
    const preset: '' | CallOutcome =
      event.cli === null ? (event.cliOrigin === 'withheld' ? 'withheld' : 'invalid') : event.did === null ? 'invalid' : '';
    const now = this.clock();
    let trust = this.trust.decide(event);
    if (this.opts.identity !== undefined && preset === '' && typeof event.identity === 'string' && event.identity !== ''
      && await this.isCandidate(event.did as string, event.cli as string)) {
      trust = verdictTrust(await this.opts.identity.verify({ ...event, policy: this.trust.policy }));
    }
    const reply = (await runScript(
      this.redis,
      processCallScript,
      [this.keys.callKey(event.callId), this.keys.matchKey(event.did ?? '', event.cli ?? ''), this.opts.audit.key],
      [
        this.keys.session, event.callId, event.receivedAt, this.opts.skewMs ?? DEFAULT_SKEW_MS,
        this.opts.callRecordTtlSeconds ?? DEFAULT_CALL_RECORD_TTL_SECONDS,
        this.opts.retentionSeconds ?? DEFAULT_RETENTION_SECONDS, preset, now,
        this.opts.audit.maxLen, JSON.stringify(event), this.keys.emitClaimPrefix, DEFAULT_EMIT_LEASE_MS,
        trust.refusal, trust.verdictJson,
      ],
    )) as [number, string, string, string, string, unknown, number];
    const decidedAt = this.clock();
    const fresh = Number(reply[0]) === 1;
    const decided = reply[1] as CallOutcome;
    const sessionId = reply[2] || undefined;
    const detail = reply[3] || undefined;
    const notified = reply[4] === 'verified';
    const claimed = Number(reply[6]) === 1;

    const result: CallResult = fresh
      ? { outcome: decided, sessionId, detail, emitted: false }
      : { outcome: 'duplicate', firstOutcome: decided, sessionId, detail, emitted: false };
    if (fresh && decided === 'rejected' && detail === trust.refusal) this.opts.onTrustRefusal?.(detail);
    if (fresh && decided === 'verified') {
      this.opts.metrics.inviteToVerified.observe(Math.max(0, decidedAt - event.receivedAt) / 1000);
    }
    // Per delivery: a redelivery counts as "duplicate" even when the first delivery's reply was lost
    // (its worker died, or Redis died after the script ran); sessions and webhooks stay exact.
    this.opts.metrics.callOutcomes.inc({ outcome: result.outcome });

    // The script appended the audit entries with the decision, so nothing is emitted unaudited.
    if (decided === 'verified' && !notified && claimed) {
      const session = toVerification(pairsToRecord(reply[5]));
      if (session && session.status === 'verified') result.emitted = await this.emitVerified(session);
    }
    this.opts.logger?.debug(
      { callId: event.callId, cli: maskNumber(event.cli), did: maskNumber(event.did), outcome: result.outcome, detail, sessionId },
      'call processed',
    );
    return result;
  }

  /** Whether (DID, CLI) names a pending session: the call could verify it, so its Identity is worth checking. */
  private async isCandidate(did: string, cli: string): Promise<boolean> {
    const sid = await this.redis.get(this.keys.matchKey(did, cli));
    return sid !== null && sid !== '' && (await this.redis.hget(this.keys.session + sid, 'status')) === 'pending';
  }

  private async emitVerified(session: Verification): Promise<boolean> {
    const url = session.callbackUrl ?? this.opts.defaultWebhookUrl;
    if (!url) {
      this.opts.logger?.warn({ sessionId: session.id }, 'verified session has no callbackUrl and no webhooks.defaultUrl');
    }
    const at = session.verifiedAt ? Date.parse(session.verifiedAt) : this.clock();
    const event = verificationEvent('verification.verified', session, at);
    // The decision script took the claim (token as emitOnce would use); emit and mark notified.
    // A direct-first emitter records its 2xx deliveries in `unmarked`: a retry after a failed mark
    // then only marks. Queue adds are not recorded: a Redis that lost the add must get it again.
    await emitClaimed(this.redis, this.keys, session.id, 'verified', `call:${session.callId ?? ''}`, async () => {
      if (url && !this.unmarked.has(event.id)) await this.opts.emitter.emit(event, url);
    });
    this.unmarked.delete(event.id);
    return url !== undefined;
  }

  private async record(event: Record<string, unknown> | CallEvent, result: CallResult): Promise<void> {
    const e = event as Partial<CallEvent>;
    await this.opts.audit.append({
      type: 'call',
      at: this.clock(),
      data: {
        ...e,
        outcome: result.outcome,
        firstOutcome: result.firstOutcome,
        detail: result.detail,
        sessionId: result.sessionId,
      },
    });
    if (result.outcome === 'verified' && result.sessionId) {
      await this.opts.audit.append({
        type: 'session.verified',
        at: this.clock(),
        data: { id: result.sessionId, callId: e.callId, callReceivedAt: e.receivedAt },
      });
    }
  }
}
