import type { Writable } from 'node:stream';
import type { Cluster, Redis } from 'ioredis';
import { auditStreamKey } from './audit-log.js';
import type { AuditRecord } from './audit-types.js';

export interface AuditExportOptions {
  /** Inclusive bounds on the entry time (the stream id's milliseconds). */
  since?: Date | number;
  until?: Date | number;
  /** Entries fetched per XRANGE call. */
  pageSize?: number;
}

function ms(t: Date | number): number {
  const n = t instanceof Date ? t.getTime() : t;
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`bad audit export bound: ${String(t)}`);
  return Math.floor(n);
}

function toRecord(id: string, fields: string[]): AuditRecord {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i] as string] = fields[i + 1] as string;
  const at = Number(f.at ?? id.split('-')[0]);
  let data: Record<string, unknown> = {};
  try {
    data = f.data ? (JSON.parse(f.data) as Record<string, unknown>) : {};
  } catch {
    // A damaged entry is still evidence: export its raw text rather than drop it.
    data = { raw: f.data };
  }
  return { id, type: f.type ?? 'unknown', at: new Date(at).toISOString(), data };
}

function write(out: Writable, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = out.write(line, (err) => { if (err) reject(err); });
    if (ok) resolve();
    else {
      const onDrain = (): void => { out.off('error', onError); resolve(); };
      const onError = (err: Error): void => { out.off('drain', onDrain); reject(err); };
      out.once('drain', onDrain);
      out.once('error', onError);
    }
  });
}

/**
 * Writes the audit trail as JSON lines (one AuditRecord per line), oldest first, paging with
 * XRANGE so memory stays flat however long the stream is. Resolves with the number of lines.
 * Does not end `out`.
 */
export async function exportAudit(
  redis: Redis | Cluster,
  prefix: string,
  out: Writable,
  opts: AuditExportOptions = {},
): Promise<number> {
  const key = auditStreamKey(prefix);
  const pageSize = opts.pageSize ?? 500;
  const end = opts.until === undefined ? '+' : String(ms(opts.until));
  let start = opts.since === undefined ? '-' : String(ms(opts.since));
  let count = 0;
  for (;;) {
    const page = await redis.xrange(key, start, end, 'COUNT', pageSize);
    for (const [id, fields] of page) {
      await write(out, JSON.stringify(toRecord(id, fields)) + '\n');
      count++;
    }
    const last = page[page.length - 1];
    if (!last || page.length < pageSize) return count;
    start = '(' + last[0];
  }
}
