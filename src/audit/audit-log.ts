import type { Cluster, Redis } from 'ioredis';
import { DEFAULT_AUDIT_MAX_LEN, type AuditEntry } from './audit-types.js';

export interface AuditLogOptions {
  redis: Redis | Cluster;
  /** Hash-tagged key prefix, e.g. "{ringproof}". */
  prefix: string;
  /** Approximate number of entries kept (XADD MAXLEN ~): retention is bounded by count. */
  maxLen?: number;
}

export function auditStreamKey(prefix: string): string {
  return `${prefix}:audit`;
}

/** Append-only audit trail on a Redis stream, trimmed approximately so trimming stays cheap. */
export class AuditLog {
  readonly key: string;
  /** XADD MAXLEN ~ bound; scripts that append to the stream themselves use it too. */
  readonly maxLen: number;
  private readonly redis: Redis | Cluster;

  constructor(opts: AuditLogOptions) {
    this.redis = opts.redis;
    this.key = auditStreamKey(opts.prefix);
    this.maxLen = opts.maxLen ?? DEFAULT_AUDIT_MAX_LEN;
    if (!Number.isInteger(this.maxLen) || this.maxLen < 1) {
      throw new RangeError(`audit maxLen must be a positive integer, got ${String(opts.maxLen)}`);
    }
  }

  /** Resolves with the stream id of the new entry. */
  async append(entry: AuditEntry): Promise<string> {
    const id = await this.redis.xadd(
      this.key, 'MAXLEN', '~', String(this.maxLen), '*',
      'type', entry.type, 'at', String(entry.at), 'data', JSON.stringify(entry.data),
    );
    return id ?? '';
  }
}
