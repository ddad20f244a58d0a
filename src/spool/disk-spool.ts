import {
  closeSync, fdatasync, fdatasyncSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, readdirSync,
  renameSync, rmSync, writeFileSync, writeSync, close as closeFd,
} from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes } from '../errors/codes.js';
import type { Logger } from '../log/logger.js';

export interface DiskSpoolOptions {
  /** Directory of the segment files, e.g. `${stateDir}/spool`. */
  dir: string;
  /** Most records held; appends past it are dropped and counted. */
  maxEvents: number;
  logger: Logger;
  /** Records per segment file before a new one is started. Default 10 000. */
  segmentMaxRecords?: number;
  /** fdatasync of the open segment at most this often while it has unsynced writes. Default 100 ms. */
  syncIntervalMs?: number;
  /** Called with the number of records dropped by each overflowing append (for metrics). */
  onOverflow?: (dropped: number) => void;
}

export interface SpoolAppendResult {
  /** True when every record was stored. */
  ok: boolean;
  stored: number;
  dropped: number;
}

/** Records handed out by read(); pass it back to ack() once they are safe elsewhere. */
export interface SpoolBatch<T> {
  readonly records: T[];
  readonly seq: number;
  readonly start: number;
  readonly end: number;
}

interface Segment {
  seq: number;
  path: string;
  /** Bytes of complete lines in the file (what readers may look at). */
  bytes: number;
  /** Byte offset of the first record not yet acknowledged. */
  readOffset: number;
  /** Valid records not yet acknowledged. */
  records: number;
  /** Open for appends (only the newest segment, only in this run). */
  fd: number | undefined;
  /** Records appended to this segment in this run (rotation trigger). */
  written: number;
  dirty: boolean;
  syncing: Promise<void> | undefined;
}

const CURSOR_FILE = 'cursor';
const SEGMENT_RE = /^(\d{12})\.jsonl$/;
const READ_CHUNK = 1 << 20;

/**
 * A bounded on-disk FIFO of JSON records, one per line, in append-only segment files.
 *
 * Durability: each append is one write() of the whole batch, so once append() returns the records
 * survive a crash of this process (they are in the kernel's page cache). The segment is fdatasync'd
 * at most every `syncIntervalMs` after writes, and on rotation and close: a power loss or kernel
 * crash can lose at most that window. Syncing per batch would put a disk flush on every flush of
 * a busy edge while Redis is down; the short interval bounds the loss without that cost.
 *
 * Restart: existing segments are reopened read-only and read in order; appends always go to a new
 * segment, so a torn last line left by a crash stays at the end of an old segment, where it is
 * skipped and counted (`skippedRecords`), as is any line that is not valid JSON.
 *
 * The read position is kept in a small cursor file, rewritten on each ack without fsync: after a
 * crash at worst some acknowledged records are handed out again. Consumers must be idempotent
 * (the BullMQ sink is: job ids are derived from the Call-ID).
 */
export class DiskSpool<T = unknown> {
  private readonly dir: string;
  private readonly maxEvents: number;
  private readonly segmentMax: number;
  private readonly logger: Logger;
  private readonly onOverflow: ((dropped: number) => void) | undefined;
  private readonly segments: Segment[] = [];
  private readonly retiring = new Set<Promise<void>>();
  private nextSeq = 1;
  private count = 0;
  private overflow = 0;
  private skipped = 0;
  private lastOverflowLog = 0;
  private overflowSinceLog = 0;
  private readonly syncTimer: NodeJS.Timeout;
  private closed = false;

  private constructor(opts: DiskSpoolOptions) {
    this.dir = opts.dir;
    this.maxEvents = opts.maxEvents;
    this.segmentMax = opts.segmentMaxRecords ?? 10_000;
    this.logger = opts.logger;
    this.onOverflow = opts.onOverflow;
    this.syncTimer = setInterval(() => this.syncDirty(), opts.syncIntervalMs ?? 100);
    this.syncTimer.unref();
  }

  /** Opens (creating if needed) the spool directory and takes over what a previous run left. */
  static open<T = unknown>(opts: DiskSpoolOptions): DiskSpool<T> {
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    const spool = new DiskSpool<T>(opts);
    spool.recover();
    return spool;
  }

  /** Records stored and not yet acknowledged. */
  get size(): number {
    return this.count;
  }

  /** Records refused because the spool was full (since open). */
  get overflowTotal(): number {
    return this.overflow;
  }

  /** Torn or unparsable lines found in segments left by a previous run. */
  get skippedRecords(): number {
    return this.skipped;
  }

  /** Stores as many records as fit; the rest are dropped, counted and logged. One write() per call. */
  append(records: readonly T[]): SpoolAppendResult {
    if (this.closed) throw new Error('spool is closed');
    const free = Math.max(0, this.maxEvents - this.count);
    const stored = Math.min(free, records.length);
    const dropped = records.length - stored;
    if (stored > 0) {
      const seg = this.writableSegment();
      let text = '';
      for (let i = 0; i < stored; i++) text += JSON.stringify(records[i]) + '\n';
      const buf = Buffer.from(text, 'utf8');
      try {
        writeAll(seg.fd!, buf);
      } catch (err) {
        this.failSegment(seg, err as Error);
        this.noteOverflow(stored + dropped, 'write failed');
        return { ok: false, stored: 0, dropped: stored + dropped };
      }
      seg.bytes += buf.length;
      seg.records += stored;
      seg.written += stored;
      seg.dirty = true;
      this.count += stored;
    }
    if (dropped > 0) this.noteOverflow(dropped, 'spool full');
    return { ok: dropped === 0, stored, dropped };
  }

  /**
   * Up to `max` of the oldest unacknowledged records, in order (possibly fewer: a batch never spans
   * two segments). Reading does not consume: the same records come back until ack().
   */
  read(max: number): SpoolBatch<T> {
    for (;;) {
      const seg = this.segments[0];
      if (!seg) return { records: [], seq: 0, start: 0, end: 0 };
      if (seg.readOffset >= seg.bytes) {
        if (seg.fd === undefined) {
          this.dropHead();
          continue;
        }
        return { records: [], seq: seg.seq, start: seg.readOffset, end: seg.readOffset };
      }
      const batch = this.readSegment(seg, max);
      if (batch.records.length === 0 && batch.end > batch.start) {
        this.ack(batch); // only skipped lines: step over them
        continue;
      }
      return batch;
    }
  }

  /** Marks a batch from read() as delivered; segments fully delivered are deleted. */
  ack(batch: SpoolBatch<T>): void {
    const seg = this.segments[0];
    if (!seg || seg.seq !== batch.seq || seg.readOffset !== batch.start) return; // stale batch
    seg.readOffset = batch.end;
    seg.records -= batch.records.length;
    this.count -= batch.records.length;
    if (seg.readOffset >= seg.bytes) {
      this.dropHead();
    } else {
      this.saveCursor(seg);
    }
  }

  /** fdatasync now, if anything is unsynced. */
  async sync(): Promise<void> {
    this.syncDirty();
    await Promise.all(this.segments.map((s) => s.syncing));
  }

  /** Syncs and closes the files; the spool keeps its content for the next open. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.syncTimer);
    await Promise.all(this.segments.map((s) => s.syncing));
    for (const seg of this.segments) {
      if (seg.fd === undefined) continue;
      try { fdatasyncSync(seg.fd); } catch { /* closing anyway */ }
      closeSync(seg.fd);
      seg.fd = undefined;
    }
    await Promise.all([...this.retiring]);
  }

  private recover(): void {
    const cursor = this.loadCursor();
    const seqs = readdirSync(this.dir)
      .map((name) => SEGMENT_RE.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    for (const seq of seqs) {
      const path = this.segmentPath(seq);
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
      if (cursor && seq < cursor.seq) {
        rmSync(path, { force: true }); // fully acknowledged before the last stop
        continue;
      }
      const content = readFileSync(path);
      const start = cursor && seq === cursor.seq ? Math.min(cursor.offset, content.length) : 0;
      let records = 0;
      let bad = 0;
      forEachLine(content, start, content.length, (line) => {
        if (parseLine(line) === undefined) bad++;
        else records++;
      }, () => { bad++; });
      this.skipped += bad;
      if (records === 0) {
        rmSync(path, { force: true });
        continue;
      }
      this.segments.push({
        seq, path, bytes: content.length, readOffset: start, records, fd: undefined, written: 0, dirty: false, syncing: undefined,
      });
      this.count += records;
    }
    if (this.skipped > 0) {
      this.logger.warn({ skipped: this.skipped, dir: this.dir }, 'spool: skipped torn or corrupt records left by a previous run');
    }
    if (this.count > 0) {
      this.logger.info({ records: this.count, segments: this.segments.length }, 'spool: recovered records from a previous run');
    }
    const head = this.segments[0];
    if (head) this.saveCursor(head);
    else rmSync(join(this.dir, CURSOR_FILE), { force: true });
  }

  private readSegment(seg: Segment, max: number): SpoolBatch<T> {
    const records: T[] = [];
    const fd = openSync(seg.path, 'r');
    let end = seg.readOffset;
    try {
      let pos = seg.readOffset;
      let carry: Buffer | undefined;
      while (pos < seg.bytes && records.length < max) {
        const want = Math.min(READ_CHUNK, seg.bytes - pos);
        const chunk = Buffer.allocUnsafe(want);
        const n = readSync(fd, chunk, 0, want, pos);
        if (n <= 0) break;
        const data = carry ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
        const dataStart = pos - (carry ? carry.length : 0);
        pos += n;
        let consumed = 0;
        let lineStart = 0;
        for (;;) {
          if (records.length >= max) break;
          const nl = data.indexOf(10, lineStart);
          if (nl === -1) break;
          const value = parseLine(data.subarray(lineStart, nl));
          if (value !== undefined) records.push(value as T);
          lineStart = nl + 1;
          consumed = lineStart;
        }
        end = dataStart + consumed;
        carry = consumed < data.length && records.length < max ? data.subarray(consumed) : undefined;
      }
      // Only a segment from a previous run can end in a torn line: step over it.
      if (records.length < max && seg.fd === undefined && end < seg.bytes && pos >= seg.bytes) end = seg.bytes;
    } finally {
      closeSync(fd);
    }
    return { records, seq: seg.seq, start: seg.readOffset, end };
  }

  private writableSegment(): Segment {
    const last = this.segments[this.segments.length - 1];
    if (last && last.fd !== undefined && last.written < this.segmentMax) return last;
    if (last && last.fd !== undefined) this.retire(last);
    const seq = this.nextSeq++;
    const path = this.segmentPath(seq);
    const fd = openSync(path, 'a', 0o600);
    const seg: Segment = { seq, path, bytes: 0, readOffset: 0, records: 0, fd, written: 0, dirty: false, syncing: undefined };
    this.segments.push(seg);
    return seg;
  }

  /** Stop appending to a segment: sync and close its fd once any in-flight sync is done. */
  private retire(seg: Segment): void {
    const fd = seg.fd;
    if (fd === undefined) return;
    seg.fd = undefined;
    seg.dirty = false;
    const p = (seg.syncing ?? Promise.resolve()).then(() => new Promise<void>((res) => {
      fdatasync(fd, () => closeFd(fd, () => res()));
    }));
    this.retiring.add(p);
    void p.then(() => this.retiring.delete(p));
  }

  /** A failed write may have left a partial line: seal the segment at its real size. */
  private failSegment(seg: Segment, err: Error): void {
    this.logger.error({ err: err.message, segment: seg.path }, 'spool: write failed; starting a new segment');
    try {
      if (seg.fd !== undefined) seg.bytes = fstatSync(seg.fd).size;
    } catch { /* keep the last known size */ }
    this.retire(seg);
  }

  private dropHead(): void {
    const seg = this.segments.shift();
    if (!seg) return;
    this.retire(seg);
    rmSync(seg.path, { force: true });
    const next = this.segments[0];
    if (next) this.saveCursor(next);
    else rmSync(join(this.dir, CURSOR_FILE), { force: true });
  }

  private syncDirty(): void {
    for (const seg of this.segments) {
      if (!seg.dirty || seg.fd === undefined || seg.syncing) continue;
      seg.dirty = false;
      const fd = seg.fd;
      seg.syncing = new Promise<void>((res) => {
        fdatasync(fd, (err) => {
          if (err) this.logger.error({ err: err.message, segment: seg.path }, 'spool: fdatasync failed');
          seg.syncing = undefined;
          res();
        });
      });
    }
  }

  private noteOverflow(dropped: number, reason: string): void {
    this.overflow += dropped;
    this.overflowSinceLog += dropped;
    this.onOverflow?.(dropped);
    const now = Date.now();
    if (now - this.lastOverflowLog >= 10_000) {
      const code = reason === 'spool full' ? ErrorCodes.SPOOL_FULL : undefined;
      this.logger.error({ code, dropped: this.overflowSinceLog, total: this.overflow, maxEvents: this.maxEvents, reason },
        'spool: records dropped');
      this.lastOverflowLog = now;
      this.overflowSinceLog = 0;
    }
  }

  private saveCursor(seg: Segment): void {
    const file = join(this.dir, CURSOR_FILE);
    writeFileSync(`${file}.tmp`, `${seg.seq} ${seg.readOffset}\n`);
    renameSync(`${file}.tmp`, file);
  }

  private loadCursor(): { seq: number; offset: number } | undefined {
    try {
      const m = /^(\d+) (\d+)\s*$/.exec(readFileSync(join(this.dir, CURSOR_FILE), 'utf8'));
      return m ? { seq: Number(m[1]), offset: Number(m[2]) } : undefined;
    } catch {
      return undefined;
    }
  }

  private segmentPath(seq: number): string {
    return join(this.dir, `${String(seq).padStart(12, '0')}.jsonl`);
  }
}

function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

function parseLine(line: Buffer): unknown {
  if (line.length === 0) return undefined;
  try {
    return JSON.parse(line.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Calls onLine for each "\n"-terminated line in [start, end); onTorn once if bytes remain after the last. */
function forEachLine(buf: Buffer, start: number, end: number, onLine: (line: Buffer) => void, onTorn: () => void): void {
  let pos = start;
  while (pos < end) {
    const nl = buf.indexOf(10, pos);
    if (nl === -1 || nl >= end) {
      onTorn();
      return;
    }
    onLine(buf.subarray(pos, nl));
    pos = nl + 1;
  }
}
