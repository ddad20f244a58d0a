import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiskSpool } from '../../src/spool/disk-spool.js';
import { createLogger } from '../../src/log/logger.js';

interface Rec { n: number; pad?: string }

function logCapture(): { logger: ReturnType<typeof createLogger>; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

const recs = (from: number, count: number): Rec[] => Array.from({ length: count }, (_, i) => ({ n: from + i }));

describe('DiskSpool', () => {
  let dir: string;
  const open: Array<DiskSpool<Rec>> = [];
  const silent = createLogger({ level: 'silent' });

  beforeEach(() => { dir = join(mkdtempSync(join(tmpdir(), 'rp-spool-')), 'spool'); });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    rmSync(join(dir, '..'), { recursive: true, force: true });
  });
  const openSpool = (opts: { maxEvents?: number; segmentMaxRecords?: number; logger?: ReturnType<typeof createLogger> } = {}): DiskSpool<Rec> => {
    const s = DiskSpool.open<Rec>({ dir, maxEvents: opts.maxEvents ?? 1000, logger: opts.logger ?? silent, segmentMaxRecords: opts.segmentMaxRecords });
    open.push(s);
    return s;
  };

  it('appends, reads in order without consuming, acks, and deletes delivered segments', () => {
    const s = openSpool({ segmentMaxRecords: 10 });
    expect(s.append(recs(0, 7))).toEqual({ ok: true, stored: 7, dropped: 0 });
    expect(s.append(recs(7, 8))).toEqual({ ok: true, stored: 8, dropped: 0 });
    s.append(recs(15, 10));
    expect(s.size).toBe(25);
    const segFiles = (): string[] => readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
    expect(segFiles()).toHaveLength(2); // 15 in the first (rotation is checked per append), 10 in the second

    const b1 = s.read(4);
    expect(b1.records.map((r) => r.n)).toEqual([0, 1, 2, 3]);
    expect(s.read(4).records.map((r) => r.n)).toEqual([0, 1, 2, 3]); // peek until ack
    s.ack(b1);
    expect(s.size).toBe(21);
    const got: number[] = [0, 1, 2, 3];
    for (;;) {
      const b = s.read(6);
      if (b.records.length === 0) break;
      got.push(...b.records.map((r) => r.n));
      s.ack(b);
    }
    expect(got).toEqual(recs(0, 25).map((r) => r.n));
    expect(s.size).toBe(0);
    expect(segFiles()).toHaveLength(0);
    s.append(recs(100, 1));
    expect(s.read(10).records).toEqual([{ n: 100 }]);
  });

  it('survives a restart: unacked records come back in order, acked ones do not', async () => {
    const s1 = openSpool({ segmentMaxRecords: 5 });
    s1.append(recs(0, 12));
    const b = s1.read(3);
    s1.ack(b);
    await s1.close();
    open.splice(0);

    const s2 = openSpool({ segmentMaxRecords: 5 });
    expect(s2.size).toBe(9);
    s2.append(recs(12, 2)); // appends after a restart go to a new segment, after the old ones
    const all: number[] = [];
    for (let b2 = s2.read(100); b2.records.length > 0; b2 = s2.read(100)) {
      all.push(...b2.records.map((r) => r.n));
      s2.ack(b2);
    }
    expect(all).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(s2.size).toBe(0);
  });

  it('skips and counts a torn last line left by a crash, and a corrupt line', async () => {
    const s1 = openSpool();
    s1.append(recs(0, 3));
    await s1.close();
    open.splice(0);
    const seg = readdirSync(dir).find((f) => f.endsWith('.jsonl'))!;
    appendFileSync(join(dir, seg), 'not json at all\n{"n":3}\n{"n":4,"pad":"tor');

    const { logger, lines } = logCapture();
    const s2 = openSpool({ logger });
    expect(s2.size).toBe(4);
    expect(s2.skippedRecords).toBe(2);
    expect(lines.some((l) => l.msg === 'spool: skipped torn or corrupt records left by a previous run' && l.skipped === 2)).toBe(true);
    s2.append(recs(5, 1));
    const got: number[] = [];
    for (let b = s2.read(2); b.records.length > 0; b = s2.read(2)) {
      got.push(...b.records.map((r) => r.n));
      s2.ack(b);
    }
    expect(got).toEqual([0, 1, 2, 3, 5]);
    expect(s2.size).toBe(0);
    expect(readdirSync(dir).filter((f) => f.endsWith('.jsonl'))).toHaveLength(0);
  });

  it('is bounded by maxEvents: overflow is stored partially, counted, logged and reported', () => {
    const { logger, lines } = logCapture();
    const dropped: number[] = [];
    const s = DiskSpool.open<Rec>({ dir, maxEvents: 10, logger, onOverflow: (n) => dropped.push(n) });
    open.push(s);
    expect(s.append(recs(0, 7)).ok).toBe(true);
    expect(s.append(recs(7, 7))).toEqual({ ok: false, stored: 3, dropped: 4 });
    expect(s.append(recs(14, 1))).toEqual({ ok: false, stored: 0, dropped: 1 });
    expect(s.size).toBe(10);
    expect(s.overflowTotal).toBe(5);
    expect(dropped).toEqual([4, 1]);
    expect(lines.filter((l) => l.msg === 'spool: records dropped')).toHaveLength(1); // throttled, not silent
    expect(lines[0]).toMatchObject({ level: 'error', dropped: 4, maxEvents: 10 });
    const b = s.read(100);
    expect(b.records.map((r) => r.n)).toEqual(recs(0, 10).map((r) => r.n));
    s.ack(b);
    expect(s.append(recs(20, 2)).ok).toBe(true);
  });

  it('reads records that straddle read-chunk boundaries', async () => {
    const s1 = openSpool();
    const big = Array.from({ length: 8 }, (_, i) => ({ n: i, pad: String(i).repeat(300_000 + i) }));
    s1.append(big);
    await s1.close();
    open.splice(0);
    const s2 = openSpool();
    const b = s2.read(100);
    expect(b.records.map((r) => r.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(b.records.every((r, i) => r.pad === String(i).repeat(300_000 + i))).toBe(true);
    s2.ack(b);
    expect(s2.size).toBe(0);
  });

  it('sync() flushes to disk and a stale batch cannot be acked twice', async () => {
    const s = openSpool();
    s.append(recs(0, 4));
    await s.sync();
    const b = s.read(2);
    s.ack(b);
    s.ack(b); // ignored
    expect(s.size).toBe(2);
    expect(s.read(10).records.map((r) => r.n)).toEqual([2, 3]);
  });
});
