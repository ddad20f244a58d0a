import type { Cluster, Redis } from 'ioredis';
import { DEFAULT_AUDIT_SETTINGS, type AuditEntry, type AuditSettings } from './audit-types.js';

export interface AuditLogOptions {
  redis: Redis | Cluster;
  /** Hash-tagged key prefix, e.g. "{ringproof}". */
  prefix: string;
  /** Retention of both trails (config `audit`); defaults to DEFAULT_AUDIT_SETTINGS. */
  settings?: Partial<AuditSettings>;
  clock?: () => number;
}

/** The evidence trail: session events and every call that concerns a session. */
export function auditStreamKey(prefix: string): string {
  return `${prefix}:audit`;
}

/** The noise trail: a capped, sampled record of calls that concern no session. */
export function noiseStreamKey(prefix: string): string {
  return `${prefix}:audit:calls`;
}

/**
 * The two audit trails on Redis streams. The evidence trail is trimmed by time only (XADD MINID ~,
 * `evidenceRetentionDays`), so no volume of calls can push a verification's evidence out; the noise
 * trail is trimmed by count (MAXLEN ~), so a flood costs bounded memory. The call worker's batch
 * script appends to both itself, with the same settings.
 */
export class AuditLog {
  readonly key: string;
  readonly noiseKey: string;
  readonly settings: Readonly<AuditSettings>;
  private readonly redis: Redis | Cluster;
  private readonly clock: () => number;

  constructor(opts: AuditLogOptions) {
    this.redis = opts.redis;
    this.key = auditStreamKey(opts.prefix);
    this.noiseKey = noiseStreamKey(opts.prefix);
    this.settings = Object.freeze({ ...DEFAULT_AUDIT_SETTINGS, ...opts.settings });
    this.clock = opts.clock ?? Date.now;
    for (const [k, v] of Object.entries(this.settings)) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`audit ${k} must be a positive integer, got ${String(v)}`);
    }
  }

  /** Stream ids below this (epoch ms) are past the evidence retention. */
  evidenceMinId(now = this.clock()): number {
    return Math.max(0, now - this.settings.evidenceRetentionDays * 86_400_000);
  }

  /** Appends to the evidence trail; resolves with the stream id of the new entry. */
  async append(entry: AuditEntry): Promise<string> {
    const id = await this.redis.xadd(
      this.key, 'MINID', '~', String(this.evidenceMinId()), '*',
      'type', entry.type, 'at', String(entry.at), 'data', JSON.stringify(entry.data),
    );
    return id ?? '';
  }
}
