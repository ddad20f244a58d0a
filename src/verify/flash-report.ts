import { createHash, timingSafeEqual } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import type { AuditLog } from '../audit/audit-log.js';
import type { FlashMetrics } from '../flash/flash-metrics.js';
import { emitOnce } from './emit-once.js';
import { codeLengthOf, type CliPattern } from './flash-session.js';
import { expiryJobId, type ExpiryJobData } from './queue-names.js';
import { flashReportScript } from './scripts/flash-scripts.js';
import { pairsToRecord, runScript } from './scripts/lua-script.js';
import { isPlausibleId } from './session-id.js';
import { toVerification } from './session-record.js';
import type { Verification, WebhookEmitter } from './verification-types.js';
import { DEFAULT_RETENTION_SECONDS } from './verify-defaults.js';
import { verifyKeys, type VerifyKeys } from './verify-keys.js';
import { verificationEvent } from './webhook-events.js';

/** What the app reports: the whole caller ID that rang, or only its code digits. */
export type FlashReport = { cli: string } | { code: string };

export type FlashReportResult =
  | { kind: 'verified'; verification: Verification }
  | { kind: 'mismatch'; verification: Verification; reportsLeft: number }
  /** That was the last try: the session is now `failed`. */
  | { kind: 'failed'; verification: Verification }
  | { kind: 'missing' }
  | { kind: 'not_flash' }
  | { kind: 'expired'; expiresAt: string }
  /** Verified, cancelled or failed already. */
  | { kind: 'ended'; status: string }
  /** No call has rung yet (queued, calling, or it failed before ringing). */
  | { kind: 'not_rung'; state: string };

export interface FlashReportsOptions {
  redis: Redis | Cluster;
  prefix: string;
  audit: AuditLog;
  /** Where the verified webhook goes (the webhooks queue). */
  emitter: WebhookEmitter;
  /** webhooks.defaultUrl. */
  defaultWebhookUrl: string | undefined;
  expiryQueue: Queue<ExpiryJobData>;
  metrics?: Pick<FlashMetrics, 'verified'>;
  retentionSeconds?: number;
  clock?: () => number;
}

/** Constant time whatever the lengths: both sides are hashed to 32 bytes first. */
function sameText(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/**
 * Reports of flash calls (POST /v1/verifications/{id}/report): the caller ID or code the phone
 * showed, compared in constant time with the one that rang; a bounded number of tries.
 */
export class FlashReports {
  private readonly keys: VerifyKeys;
  private readonly clock: () => number;

  constructor(private readonly opts: FlashReportsOptions) {
    this.keys = verifyKeys(opts.prefix);
    this.clock = opts.clock ?? Date.now;
  }

  async report(id: string, input: FlashReport): Promise<FlashReportResult> {
    if (!isPlausibleId(id)) return { kind: 'missing' };
    const key = this.keys.sessionKey(id);
    const [expected, patternsJson] = await this.opts.redis.hmget(key, 'flashCli', 'flashPatterns');
    const rang = expected ?? '';
    const matched = rang !== '' && this.matches(rang, input, patternsJson ?? null);
    const now = this.clock();
    const reply = (await runScript(this.opts.redis, flashReportScript, [key], [
      now, this.opts.retentionSeconds ?? DEFAULT_RETENTION_SECONDS, rang, matched ? '1' : '0',
    ])) as [string, unknown];
    const kind = reply[0];
    switch (kind) {
      case 'missing': return { kind };
      case 'not_flash': return { kind };
      case 'expired': return { kind, expiresAt: new Date(Number(reply[1])).toISOString() };
      case 'ended': return { kind, status: String(reply[1]) };
      case 'not_rung': return { kind, state: String(reply[1]) };
      default: break;
    }
    const h = pairsToRecord(reply[1]);
    const verification = toVerification(h);
    if (verification === null) return { kind: 'missing' };
    await this.opts.audit.append({
      type: 'flash.report', at: now,
      data: { id, matched, by: 'cli' in input ? 'cli' : 'code', tries: Number(h.flashReportTries ?? 0) },
    });
    if (kind === 'verified') {
      await this.opts.audit.append({ type: 'session.verified', at: now, data: { id, by: 'report', cli: rang } });
      this.opts.metrics?.verified.inc({ trunk: h.flashTrunk ?? '', country: verification.phoneNumberInfo?.country ?? 'ZZ' });
      await this.opts.expiryQueue.remove(expiryJobId(id)).catch(() => undefined);
      const url = verification.callbackUrl ?? this.opts.defaultWebhookUrl;
      await emitOnce(this.opts.redis, this.keys, id, 'verified', 'report', async () => {
        if (url !== undefined) await this.opts.emitter.emit(verificationEvent('verification.verified', verification, now), url);
      });
      return { kind, verification };
    }
    if (kind === 'failed') {
      await this.opts.audit.append({ type: 'session.failed', at: now, data: { id, reason: 'report_tries' } });
      return { kind, verification };
    }
    return { kind: 'mismatch', verification, reportsLeft: verification.flashCall?.reportsLeft ?? 0 };
  }

  private matches(rang: string, input: FlashReport, patternsJson: string | null): boolean {
    if ('cli' in input) return sameText(input.cli, rang);
    let patterns: CliPattern[] = [];
    try {
      patterns = JSON.parse(patternsJson ?? '[]') as CliPattern[];
    } catch {
      // A damaged record: the code cannot be located, so it cannot match.
    }
    const code = rang.slice(-codeLengthOf(rang, patterns));
    return sameText(input.code, code);
  }
}
