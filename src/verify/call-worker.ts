import { randomBytes } from 'node:crypto';
import { closeWorker } from '../queue/close-worker.js';
import { Worker, type Job } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { CallEvent } from '../edge/call-event.js';
import { maskNumber } from '../log/mask.js';
import { batchEvents } from '../queue/call-batch.js';
import { batchJobId } from '../queue/call-job-id.js';
import { isCallLimitOutcome, type CallLimitOutcome } from '../limits/call-limit-defaults.js';
import type { CallLimits } from '../limits/call-limiter.js';
import type { ConversionConfig } from '../config/config-types.js';
import { countVerified } from '../limits/conversion-check.js';
import { CallerTrustDecider, verdictTrust, type CallTrust as CallTrustDecision } from '../trust/call-trust.js';
import type { CallerTrustPolicy } from '../trust/caller-trust-types.js';
import { uniformRefusals } from '../trust/session-trust-policy.js';
import type { CallerTrustVerifier } from '../trust/stir-shaken-types.js';
import { CALLS_QUEUE } from './queue-names.js';
import { decideCalls } from './decide-calls.js';
import { emitClaimed, markNotified } from './emit-once.js';
import { awaitEmitClaim, ClaimRenewal, DEFAULT_CLAIM_STALE_MS } from './emit-claim-liveness.js';
import { WORKER_TIMING } from './worker-timing.js';
import { pairsToRecord } from './scripts/lua-script.js';
import { toVerification } from './session-record.js';
import { UnmarkedEmits } from './unmarked-emits.js';
import type { CallOutcome, Verification } from './verification-types.js';
import { verifyKeys, type VerifyKeys } from './verify-keys.js';
import { verificationEvent } from './webhook-events.js';
import type { VerifyWorkerOptions } from './worker-options.js';

export interface CallWorkerOptions extends VerifyWorkerOptions {
  skewMs?: number;
  /** Call-ID dedupe window (config pipeline.dedupeWindowSeconds). */
  dedupeWindowSeconds?: number;
  /**
   * Events the emitter delivered itself (DirectFirstEmitter's onDelivered), shared by the call workers
   * of a process (see UnmarkedEmits); default: one per worker, never filled.
   */
  unmarked?: UnmarkedEmits;
  /**
   * The `trust` configuration: what a matching call needs to verify a session without a
   * callerTrustPolicy of its own; default DEFAULT_CALLER_TRUST_POLICY.
   */
  trust?: CallerTrustPolicy;
  /** Counts refusals by reason; absent in tests that do not look. */
  onTrustRefusal?: (reason: string) => void;
  /** The call limits (limits.calls); absent = none. A call over one is refused like a trust refusal, naming the limit. */
  callLimits?: CallLimits;
  /** The low-conversion throttle (limits.conversion): verified sessions are counted per number prefix for it. */
  conversion?: ConversionConfig;
  /**
   * STIR/SHAKEN Identity verification (trust.identity); absent when no trust anchors are configured.
   * Only calls that carry an Identity header and match a pending session pay for it.
   */
  identity?: CallerTrustVerifier;
  /**
   * Confirms the decision script's writes reached the Redis replicas before any webhook goes out, and
   * the webhooks' marks after (ReplicaWait, redis.waitReplicas): a promoted replica then never lacks
   * a decision already told, nor decides and POSTs it again.
   * Not confirmed in time, the webhook goes out anyway: the job, on the replicas since the edge
   * waited for them, is decided again at worst, and the webhook repeats with the same event id.
   */
  replicas?: { afterWrite(): Promise<boolean> };
  /**
   * How long another attempt's emit claim must be seen unrenewed before this worker takes it over
   * and sends the webhook itself (DEFAULT_CLAIM_STALE_MS; see emit-claim-liveness.ts).
   */
  claimStaleMs?: number;
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

/** What a batch job returns (kept small: completed jobs are not retained anyway). */
export interface BatchSummary {
  calls: number;
  verified: number;
}

function isCallEvent(e: unknown): e is CallEvent {
  const c = e as Partial<CallEvent> | null;
  return !!c && typeof c === 'object' && c.v === 1 && typeof c.callId === 'string' && c.callId !== ''
    && typeof c.receivedAt === 'number' && Number.isFinite(c.receivedAt) && typeof c.trunk === 'string'
    && (c.cli === null || typeof c.cli === 'string') && (c.did === null || typeof c.did === 'string');
}

const NO_LIMITS: ReadonlyMap<CallEvent, CallLimitOutcome> = new Map();

/**
 * The trust decisions with the call limits' refusals laid over them. The decision script sends each
 * distinct decision once per batch, so refused decisions are made once per (verdict, limit).
 */
function withLimits(
  trustOf: (e: CallEvent) => CallTrustDecision,
  over: ReadonlyMap<CallEvent, CallLimitOutcome>,
): (e: CallEvent) => CallTrustDecision {
  if (over.size === 0) return trustOf;
  const refused = new Map<CallTrustDecision, Map<CallLimitOutcome, CallTrustDecision>>();
  return (e) => {
    const t = trustOf(e);
    const limit = over.get(e);
    if (limit === undefined) return t;
    let byLimit = refused.get(t);
    if (!byLimit) refused.set(t, (byLimit = new Map()));
    let r = byLimit.get(limit);
    if (!r) byLimit.set(limit, (r = { refusal: limit, byPolicy: uniformRefusals(limit), verdictJson: t.verdictJson }));
    return r;
  };
}

const MALFORMED: CallResult = Object.freeze({ outcome: 'invalid', detail: 'malformed_event', emitted: false });

/**
 * Consumes the 'calls' queue, one job per edge batch: one script run decides every call of the batch
 * (dedupe by Call-ID, match (DID, CLI), verify atomically, audit or aggregate, emit claim, see
 * process-calls.ts), then the verified webhooks are emitted and every outcome is counted.
 *
 * Crash safety: the decision, the dedupe record, the audit entries and the emit claim are written by
 * one script, and the webhook is marked as handed over only after emit() resolved (with a
 * direct-first emitter, after the receiver's 2xx or the queue add). A delivery that finds a verified
 * decision whose webhook was not marked (the previous one died, or emit failed and the job is
 * retried) emits again with the same event id; delivery is at-least-once and receivers/queue dedupe
 * by that id. A failed emit fails the whole batch job; its retry finds every other call decided.
 */
export class CallWorker {
  readonly worker: Worker<unknown, CallResult | BatchSummary>;
  private readonly redis: Redis | Cluster;
  private readonly keys: VerifyKeys;
  private readonly opts: CallWorkerOptions;
  private readonly clock: () => number;
  private readonly unmarked: UnmarkedEmits;
  private readonly trust: CallerTrustDecider;
  private readonly trustOf: (e: CallEvent) => CallTrustDecision;
  private lastMalformedLog = 0;
  /** Names this worker's attempts: `${instance}.${n}`, one per batch handled. */
  private readonly instance = randomBytes(4).toString('hex');
  private attempts = 0;
  /** Attempts of this worker still running: a claim of one that is over has no live holder. */
  private readonly liveAttempts = new Set<string>();

  constructor(opts: CallWorkerOptions) {
    this.opts = opts;
    this.unmarked = opts.unmarked ?? new UnmarkedEmits();
    this.redis = opts.redis ?? opts.connection;
    this.keys = verifyKeys(opts.prefix);
    this.clock = opts.clock ?? Date.now;
    this.trust = new CallerTrustDecider(opts.trust);
    this.trustOf = (e) => this.trust.decide(e);
    this.worker = new Worker<unknown, CallResult | BatchSummary>(CALLS_QUEUE, (job: Job<unknown>) => this.process(job), {
      connection: opts.connection,
      prefix: opts.prefix,
      concurrency: opts.concurrency ?? 16,
      ...WORKER_TIMING,
      autorun: opts.autorun ?? true,
      // Nothing is read back from a completed batch: its calls' decisions live in the dedupe buckets.
      removeOnComplete: { count: 0 },
      removeOnFail: { age: 7 * 24 * 3600, count: 1000 },
    });
    this.worker.on('error', (err) => opts.logger?.error({ err }, 'calls worker error'));
    this.worker.on('failed', (job, err) =>
      opts.logger?.warn({ err, jobId: job?.id, attempts: job?.attemptsMade }, 'call batch job failed'));
  }

  run(): Promise<void> {
    return this.worker.run();
  }

  async close(): Promise<void> {
    await closeWorker(this.worker);
  }

  /** A batch job returns a summary; a job of one bare CallEvent (older producers) its CallResult. */
  private async process(job: Job<unknown>): Promise<CallResult | BatchSummary> {
    const data = job.data;
    const events = batchEvents(data);
    // The job id names the delivery: stable across retries of this job, distinct for another job.
    const results = await this.handleBatch(events, job.id);
    if (events.length === 1 && events[0] === data) return results[0] as CallResult;
    return { calls: results.length, verified: results.filter((r) => r.outcome === 'verified').length };
  }

  /** Processes one CallEvent (a batch of one); for tests and tools. */
  async handle(event: CallEvent, delivery?: string): Promise<CallResult> {
    return (await this.handleBatch([event], delivery))[0] as CallResult;
  }

  /**
   * Processes a batch of CallEvents; results in input order. Malformed entries are answered invalid.
   * `delivery` names this delivery (the job id); handling the same batch again with the same name is
   * its retry. Default: the id the edge gives a job of these calls (batchJobId).
   */
  async handleBatch(events: readonly unknown[], delivery?: string): Promise<CallResult[]> {
    const results: CallResult[] = new Array<CallResult>(events.length);
    const valid: CallEvent[] = [];
    const at: number[] = [];
    events.forEach((e, i) => {
      if (isCallEvent(e)) {
        valid.push(e);
        at.push(i);
      } else {
        // Not retryable: a malformed event never becomes valid.
        results[i] = { ...MALFORMED };
        this.noteMalformed(e);
      }
    });
    const counts = new Map<CallOutcome, number>();
    const count = (o: CallOutcome): void => { counts.set(o, (counts.get(o) ?? 0) + 1); };
    for (let i = 0; i < events.length - valid.length; i++) count('invalid');

    const emits: Promise<unknown>[] = [];
    const renewals: ClaimRenewal[] = [];
    const marked: string[] = [];
    const verifiedNumbers: string[] = [];
    const attempt = `${this.instance}.${++this.attempts}`;
    this.liveAttempts.add(attempt);
    try {
      if (valid.length > 0) {
        // One round trip for the batch, before its decision: a call over a limit is refused like a
        // call the trust policy refuses (outcome rejected, detail = the limit), never verifies, and
        // pays for no Identity check.
        const over = this.opts.callLimits ? await this.opts.callLimits.over(valid) : NO_LIMITS;
        const decisions = await decideCalls(this.redis, valid, {
          keys: this.keys,
          delivery: delivery ?? batchJobId(valid),
          attempt,
          audit: this.opts.audit,
          now: this.clock(),
          trustOf: withLimits(await this.trustFor(valid, over), over),
          ...(this.opts.skewMs !== undefined ? { skewMs: this.opts.skewMs } : {}),
          ...(this.opts.retentionSeconds !== undefined ? { retentionSeconds: this.opts.retentionSeconds } : {}),
          ...(this.opts.dedupeWindowSeconds !== undefined ? { dedupeWindowSeconds: this.opts.dedupeWindowSeconds } : {}),
        });
        await this.opts.replicas?.afterWrite();
        const decidedAt = this.clock();
        decisions.forEach((d, k) => {
          const event = valid[k] as CallEvent;
          const sessionId = d.sessionId || undefined;
          const detail = d.detail || undefined;
          const result: CallResult = d.fresh
            ? { outcome: d.outcome, sessionId, detail, emitted: false }
            : { outcome: 'duplicate', firstOutcome: d.outcome, sessionId, detail, emitted: false };
          results[at[k] as number] = result;
          if (d.fresh && d.outcome === 'rejected' && d.detail !== '' && !isCallLimitOutcome(d.detail)) this.opts.onTrustRefusal?.(d.detail);
          if (d.fresh && d.outcome === 'verified') {
            this.opts.metrics.inviteToVerified.observe(Math.max(0, decidedAt - event.receivedAt) / 1000);
            // The call's CLI is the verified session's number.
            if (event.cli !== null) verifiedNumbers.push(event.cli);
          }
          // Per delivery: a redelivery counts as "duplicate" even when the first delivery's reply was lost
          // (its worker died, or Redis died after the script ran); sessions and webhooks stay exact.
          count(result.outcome);
          // The script appended the audit entries with the decision, so nothing is emitted unaudited.
          if (d.outcome === 'verified' && d.notified !== 'verified' && d.sessionId !== '') {
            // Owed and claimed by another attempt: wait for its mark, or take over from a dead holder.
            const fields = d.claimed ? Promise.resolve(pairsToRecord(d.session)) : this.awaitClaim(d.sessionId, d.claimToken);
            emits.push(fields.then(async (f) => {
              const session = f === undefined ? undefined : toVerification(f);
              if (session?.status !== 'verified') return;
              renewals.push(new ClaimRenewal(this.redis, this.keys.emitClaimKey(session.id, 'verified'), d.claimToken));
              result.emitted = await this.emitVerified(session, d.claimToken);
              marked.push(session.id);
            }));
          }
          if (d.sessionId !== '') {
            this.opts.logger?.debug(
              { callId: event.callId, cli: maskNumber(event.cli), did: maskNumber(event.did), outcome: result.outcome, detail, sessionId },
              'call processed',
            );
          }
        });
      }
      for (const [outcome, n] of counts) this.opts.metrics.callOutcomes.inc({ outcome }, n);
      if (this.opts.conversion && verifiedNumbers.length > 0) {
        // A heuristic's input: a count lost to a Redis hiccup is logged, never worth failing the batch.
        await countVerified(this.redis, this.opts.prefix, this.opts.conversion, verifiedNumbers, this.clock())
          .catch((err: unknown) => this.opts.logger?.warn({ err }, 'low-conversion throttle: verified sessions could not be counted'));
      }
      // Every emit is awaited before a failure is reported, so a retry never races one still in flight.
      const settled = await Promise.allSettled(emits);
      const failed = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
      if (failed) throw failed.reason;
      // The "webhook sent" marks on a replica too: a promoted replica without them would run the
      // batch again and POST its webhooks a second time. The claims stay renewed until then. Not
      // confirmed (the master may have died with them), they are written again, on the promoted
      // replica once the connection has moved there.
      const replicas = this.opts.replicas;
      if (replicas && marked.length > 0 && !(await replicas.afterWrite())) {
        await Promise.all(marked.map((id) => markNotified(this.redis, this.keys, id, 'verified')));
        await replicas.afterWrite();
      }
      return results;
    } finally {
      for (const r of renewals) r.stop();
      this.liveAttempts.delete(attempt);
    }
  }

  /** The session's fields once this attempt holds the verified emit claim; undefined when nothing is owed any more. */
  private awaitClaim(sessionId: string, token: string): Promise<Record<string, string> | undefined> {
    return awaitEmitClaim(this.redis, this.keys, sessionId, 'verified', token, {
      staleMs: this.opts.claimStaleMs ?? DEFAULT_CLAIM_STALE_MS,
      // An attempt of this worker that is over holds nothing: its claim is taken over at once.
      isDeadHolder: (holder) => holder.includes(`:${this.instance}.`) && ![...this.liveAttempts].some((a) => holder.includes(`:${a}:`)),
    });
  }

  /**
   * STIR/SHAKEN verdicts for the batch's calls that carry an Identity header and could verify a pending
   * session; every other call keeps the edge's verstat verdict. Unsolicited calls are never candidates,
   * so a flood costs no crypto, and nothing is checked when no trust anchors are configured.
   */
  private async trustFor(events: readonly CallEvent[], over: ReadonlyMap<CallEvent, unknown>): Promise<(e: CallEvent) => CallTrustDecision> {
    const identity = this.opts.identity;
    if (identity === undefined) return this.trustOf;
    const verified = new Map<CallEvent, CallTrustDecision>();
    for (const e of events) {
      if (over.has(e)) continue;
      if (e.cli === null || e.did === null || typeof e.identity !== 'string' || e.identity === '') continue;
      if (!(await this.isCandidate(e.did, e.cli))) continue;
      verified.set(e, verdictTrust(await identity.verify({ ...e, policy: this.trust.policy }), e.cliOrigin, this.trust.policy));
    }
    return verified.size === 0 ? this.trustOf : (e) => verified.get(e) ?? this.trust.decide(e);
  }

  /** Whether (DID, CLI) names a pending session: the call could verify it, so its Identity is worth checking. */
  private async isCandidate(did: string, cli: string): Promise<boolean> {
    const sid = await this.redis.get(this.keys.matchKey(did, cli));
    return sid !== null && sid !== '' && (await this.redis.hget(this.keys.session + sid, 'status')) === 'pending';
  }

  private async emitVerified(session: Verification, claimToken: string): Promise<boolean> {
    const url = session.callbackUrl ?? this.opts.defaultWebhookUrl;
    if (!url) {
      this.opts.logger?.warn({ sessionId: session.id }, 'verified session has no callbackUrl and no webhooks.defaultUrl');
    }
    const at = session.verifiedAt ? Date.parse(session.verifiedAt) : this.clock();
    const event = verificationEvent('verification.verified', session, at);
    // The decision script took the claim for this delivery; emit and mark notified.
    // A direct-first emitter records its 2xx deliveries in `unmarked`: a retry after a failed mark
    // then only marks. Queue adds are not recorded: a Redis that lost the add must get it again.
    await emitClaimed(this.redis, this.keys, session.id, 'verified', claimToken, async () => {
      if (url && !this.unmarked.has(event.id)) await this.opts.emitter.emit(event, url);
    });
    this.unmarked.delete(event.id);
    return url !== undefined;
  }

  private noteMalformed(e: unknown): void {
    const now = Date.now();
    if (now - this.lastMalformedLog < 10_000) return;
    this.lastMalformedLog = now;
    const callId = (e as { callId?: unknown } | null)?.callId;
    this.opts.logger?.warn({ callId: typeof callId === 'string' ? callId : undefined }, 'calls worker: malformed call event answered invalid');
  }
}
