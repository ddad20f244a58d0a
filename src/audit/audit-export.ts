import type { Writable } from 'node:stream';
import type { Cluster, Redis } from 'ioredis';
import { auditStreamKey, noiseStreamKey } from './audit-log.js';
import type { AuditRecord, AuditTrail } from './audit-types.js';

export interface AuditExportOptions {
  /** Inclusive bounds on the entry time (the stream id's milliseconds). */
  since?: Date | number;
  until?: Date | number;
  /** Entries fetched per XRANGE call. */
  pageSize?: number;
  /** Which trails, in this order; default both, evidence first. */
  trails?: readonly AuditTrail[];
}

function ms(t: Date | number): number {
  const n = t instanceof Date ? t.getTime() : t;
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`bad audit export bound: ${String(t)}`);
  return Math.floor(n);
}

function toRecord(trail: AuditTrail, id: string, fields: string[]): AuditRecord {
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
  return { id, trail, type: f.type ?? 'unknown', at: new Date(at).toISOString(), data };
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
 * Writes the audit trails as JSON lines (one AuditRecord per line): the evidence trail (session
 * events, calls that concern a session), then the noise trail (the capped, sampled record of calls
 * that concern no session), each oldest first and each line naming its `trail`. Pages with XRANGE
 * so memory stays flat however long the streams are. Resolves with the number of lines. Does not
 * end `out`.
 */
export async function exportAudit(
  redis: Redis | Cluster,
  prefix: string,
  out: Writable,
  opts: AuditExportOptions = {},
): Promise<number> {
  let count = 0;
  for (const trail of opts.trails ?? ['evidence', 'noise'] as const) {
    const key = trail === 'evidence' ? auditStreamKey(prefix) : noiseStreamKey(prefix);
    count += await exportStream(redis, key, trail, out, opts);
  }
  return count;
}

async function exportStream(
  redis: Redis | Cluster,
  key: string,
  trail: AuditTrail,
  out: Writable,
  opts: AuditExportOptions,
): Promise<number> {
  const pageSize = opts.pageSize ?? 500;
  const end = opts.until === undefined ? '+' : String(ms(opts.until));
  let start = opts.since === undefined ? '-' : String(ms(opts.since));
  let count = 0;
  for (;;) {
    const page = await redis.xrange(key, start, end, 'COUNT', pageSize);
    for (const [id, fields] of page) {
      await write(out, JSON.stringify(toRecord(trail, id, fields)) + '\n');
      count++;
    }
    const last = page[page.length - 1];
    if (!last || page.length < pageSize) return count;
    start = '(' + last[0];
  }
}
