import { randomInt } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import type { AuditLog } from '../audit/audit-log.js';
import { ErrorCodes } from '../errors/codes.js';
import { RingproofError } from '../errors/ringproof-error.js';
import { DEFAULT_EXPIRY_GRACE_MS, DEFAULT_LATE_EVIDENCE_MS, DEFAULT_RETENTION_SECONDS, IDEMPOTENCY_TTL_SECONDS } from './verify-defaults.js';
import { expiryJobId, flashJobId, type ExpiryJobData, type FlashJobData } from './queue-names.js';
import { cancelSessionScript } from './scripts/cancel-session.js';
import { createSessionScript } from './scripts/create-session.js';
import { pairsToRecord, runScript } from './scripts/lua-script.js';
import { isPlausibleId, newVerificationId } from './session-id.js';
import { sessionFields, toVerification, type SessionHash } from './session-record.js';
import type { CreateVerificationInput, Verification, VerificationStore } from './verification-types.js';
import { verifyKeys, type VerifyKeys } from './verify-keys.js';
import type { VerifyMetrics } from './verify-metrics.js';

/** A DID for a new session. */
export interface DidSource {
  pick(): Promise<string>;
}

export interface RedisVerificationStoreOptions {
  redis: Redis | Cluster;
  /** Hash-tagged prefix, e.g. "{ringproof}"; the same as BullMQ's `prefix`. */
  prefix: string;
  /** The DID pool (E.164); callTo is drawn from it at random. Ignored when `didSource` is given. */
  dids: string[];
  /** Where callTo comes from instead (the Redis DID pool, src/dids); it throws when no DID is in service. */
  didSource?: DidSource;
  /** The BullMQ 'expiry' queue. */
  expiryQueue: Queue<ExpiryJobData>;
  /** The BullMQ 'flash' queue: needed to create flash-call sessions. */
  flashQueue?: Queue<FlashJobData>;
  clock?: () => number;
  idFactory?: () => string;
  metrics?: VerifyMetrics;
  audit?: AuditLog;
  retentionSeconds?: number;
  expiryGraceMs?: number;
}

/**
 * Verification sessions in Redis. Layout (see verify-keys.ts): one hash per session, a phone key
 * naming the newest session for a number (supersede), a (DID, number) match key for the call worker,
 * and an idempotency key per (owner, key). Records live for ttl + grace + retentionSeconds (7 days by
 * default), and retentionSeconds after any terminal transition; then Redis drops them.
 * Validation of ranges (ttl 60–300 s, E.164) is the API's job; the store accepts any positive ttl.
 */
export class RedisVerificationStore implements VerificationStore {
  private readonly redis: Redis | Cluster;
  private readonly keys: VerifyKeys;
  private dids: readonly string[];
  private readonly didSource: DidSource | undefined;
  private readonly expiryQueue: Queue<ExpiryJobData>;
  private readonly flashQueue: Queue<FlashJobData> | undefined;
  private readonly clock: () => number;
  private readonly idFactory: () => string;
  private readonly metrics: VerifyMetrics | undefined;
  private readonly audit: AuditLog | undefined;
  private readonly retentionSeconds: number;
  private readonly expiryGraceMs: number;

  constructor(opts: RedisVerificationStoreOptions) {
    this.didSource = opts.didSource;
    this.dids = opts.didSource ? [] : didPool(opts.dids);
    this.redis = opts.redis;
    this.keys = verifyKeys(opts.prefix);
    this.expiryQueue = opts.expiryQueue;
    this.flashQueue = opts.flashQueue;
    this.clock = opts.clock ?? Date.now;
    this.idFactory = opts.idFactory ?? newVerificationId;
    this.metrics = opts.metrics;
    this.audit = opts.audit;
    this.retentionSeconds = opts.retentionSeconds ?? DEFAULT_RETENTION_SECONDS;
    this.expiryGraceMs = opts.expiryGraceMs ?? DEFAULT_EXPIRY_GRACE_MS;
  }

  /**
   * For a configuration reload: checks `dids` (throws, changing nothing, when the pool is empty) and
   * returns the function that makes new verifications draw from it. Pending sessions keep the DID
   * they were given; matching a call needs no pool.
   */
  prepareDids(dids: readonly string[]): () => void {
    const pool = didPool(dids);
    return () => { this.dids = pool; };
  }

  async create(input: CreateVerificationInput): Promise<{ verification: Verification; replayed: boolean }> {
    if (!(input.ttlSeconds > 0)) {
      throw new RingproofError(ErrorCodes.API_VALIDATION, `ttlSeconds must be positive, got ${input.ttlSeconds}`);
    }
    if (input.flash !== undefined && this.flashQueue === undefined) {
      throw new RingproofError(ErrorCodes.INTERNAL, 'flash-call sessions need the flash queue');
    }
    const now = this.clock();
    const id = this.idFactory();
    // A flash-call session needs no DID: nobody calls in (until a fallback).
    const callTo = input.flash !== undefined ? '' : this.didSource ? await this.didSource.pick() : this.dids[randomInt(this.dids.length)] as string;
    const session: SessionHash = {
      id,
      status: 'pending',
      phoneNumber: input.phoneNumber,
      callTo,
      owner: input.owner,
      createdAt: now,
      expiresAt: now + Math.round(input.ttlSeconds * 1000),
      callbackUrl: input.callbackUrl,
      metadata: input.metadata,
      phoneNumberInfo: input.phoneNumberInfo,
      trustPolicy: input.trustPolicy,
      flash: input.flash,
    };
    const useIdem = input.idempotencyKey !== undefined && input.idempotencyKey !== '';
    const recordTtl = Math.ceil(input.ttlSeconds + this.expiryGraceMs / 1000) + this.retentionSeconds;
    const reply = (await runScript(
      this.redis,
      createSessionScript,
      [
        this.keys.sessionKey(id),
        this.keys.phoneKey(input.phoneNumber),
        this.keys.matchKey(callTo, input.phoneNumber),
        this.keys.idempotencyKey(input.owner, useIdem ? (input.idempotencyKey as string) : '-'),
        this.keys.pending,
      ],
      [
        id, this.keys.session, useIdem ? '1' : '0', IDEMPOTENCY_TTL_SECONDS, recordTtl,
        this.retentionSeconds, now, input.phoneNumber,
        input.flash !== undefined ? 0 : session.expiresAt + this.expiryGraceMs + DEFAULT_LATE_EVIDENCE_MS, this.keys.pendingChannel,
        ...sessionFields(session),
      ],
    )) as [string, string, unknown];

    if (reply[0] === 'replay') {
      const existing = toVerification(pairsToRecord(reply[2]));
      if (!existing) throw new RingproofError(ErrorCodes.INTERNAL, `idempotent replay found a damaged session ${reply[1]}`);
      return { verification: await this.replayOf(existing, now), replayed: true };
    }

    const superseded = String(reply[2] ?? '');
    await this.scheduleExpiry(id, session.expiresAt, now);
    if (input.flash !== undefined) await this.scheduleFlash(id);
    this.metrics?.verificationsCreated.inc();
    if (superseded) {
      // Its expiry job would be a no-op; removing it just keeps the delayed set small.
      await this.expiryQueue.remove(expiryJobId(superseded)).catch(() => undefined);
      await this.audit?.append({ type: 'session.superseded', at: now, data: { id: superseded, supersededBy: id } });
    }
    await this.audit?.append({
      type: 'session.created',
      at: now,
      data: {
        id, owner: input.owner, phoneNumber: input.phoneNumber, ...(input.flash !== undefined ? { method: 'flash_call' } : { callTo }),
        createdAt: now, expiresAt: session.expiresAt, idempotencyKey: useIdem ? input.idempotencyKey : undefined,
        phoneNumberInfo: input.phoneNumberInfo, callerTrustPolicy: input.trustPolicy,
      },
    });
    const verification = toVerification(pairsToRecord(sessionFields(session)));
    if (!verification) throw new RingproofError(ErrorCodes.INTERNAL, 'new session did not round-trip');
    return { verification, replayed: false };
  }

  async findReplay(owner: string, idempotencyKey: string): Promise<Verification | null> {
    if (idempotencyKey === '') return null;
    const id = await this.redis.get(this.keys.idempotencyKey(owner, idempotencyKey));
    if (id === null) return null;
    const existing = await this.get(id);
    return existing && this.replayOf(existing, this.clock());
  }

  /**
   * The first request may have died between the script and queue.add; adding again is a no-op
   * while the job exists (same job id), and only pending sessions need one.
   */
  private async replayOf(existing: Verification, now: number): Promise<Verification> {
    if (existing.status === 'pending') await this.scheduleExpiry(existing.id, Date.parse(existing.expiresAt), now);
    if (existing.status === 'pending' && existing.flashCall?.state === 'queued' && this.flashQueue !== undefined) await this.scheduleFlash(existing.id);
    return existing;
  }

  async get(id: string): Promise<Verification | null> {
    if (!isPlausibleId(id)) return null;
    const h = await this.redis.hgetall(this.keys.sessionKey(id));
    return toVerification(h);
  }

  async cancel(id: string): Promise<Verification | null> {
    if (!isPlausibleId(id)) return null;
    const now = this.clock();
    const reply = (await runScript(this.redis, cancelSessionScript, [this.keys.sessionKey(id)], [
      now, this.retentionSeconds,
    ])) as [number, unknown] | null;
    if (!reply) return null;
    if (Number(reply[0]) === 1) {
      await this.expiryQueue.remove(expiryJobId(id)).catch(() => undefined);
      await this.audit?.append({ type: 'session.cancelled', at: now, data: { id, reason: 'requested' } });
    }
    return toVerification(pairsToRecord(reply[1]));
  }

  /**
   * The flash worker places the call. Added again by a replay while still queued: a no-op while the
   * job exists, and the worker rings only a session still `queued` (never twice).
   */
  private async scheduleFlash(id: string): Promise<void> {
    await this.flashQueue?.add('flash', { id }, {
      jobId: flashJobId(id),
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
      // A failed job is not retried: a second try could ring the phone twice.
      attempts: 1,
    });
  }

  private async scheduleExpiry(id: string, expiresAt: number, now: number): Promise<void> {
    await this.expiryQueue.add('expire', { id }, {
      jobId: expiryJobId(id),
      delay: Math.max(0, expiresAt + this.expiryGraceMs - now),
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
      attempts: 10,
      backoff: { type: 'exponential', delay: 1000 },
    });
  }
}

function didPool(dids: readonly string[]): readonly string[] {
  if (dids.length === 0) {
    throw new RingproofError(ErrorCodes.CONFIG_INVALID, 'dids: the DID pool is empty; no verification can be created');
  }
  return Object.freeze([...dids]);
}
