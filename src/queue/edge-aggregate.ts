import type { AuditSettings } from '../audit/audit-types.js';
import type { CallEvent } from '../edge/call-event.js';
import type { Logger } from '../log/logger.js';
import { isRedisReady, type RedisConnection } from '../redis/redis-connection.js';
import { FingerprintTable } from '../v8/fingerprint-table.js';
import { TALKER_SAMPLE } from '../verify/scripts/process-calls.js';
import type { VerifyKeys } from '../verify/verify-keys.js';

/** What the edge decides for a call that cannot match any session. */
export type EdgeOutcome = 'unsolicited' | 'withheld' | 'invalid' | 'duplicate' | 'blocked';

/** Counts of edge decisions not yet handed to prom-client (read at scrape and flush time). */
export interface EdgeDecisionCounts {
  decided: Record<EdgeOutcome, number>;
  /** Aggregate updates dropped because Redis stayed away and the pending data was at its bound. */
  dropped: number;
}

export interface EdgeAggregateOptions {
  /** The producer connection (fails fast while Redis is away); the caller owns it. */
  connection: RedisConnection;
  keys: VerifyKeys;
  audit: Readonly<AuditSettings>;
  logger: Logger;
  /** Flush period (default 1000 ms). */
  flushMs?: number;
  /** A Call-ID seen again within this time is counted "duplicate" (default 10 s). */
  dedupeMs?: number;
}

/** Fields of per-minute counts, noise entries and talker increments kept while Redis is away. */
const MAX_PENDING_FIELDS = 10_000;
const MAX_PENDING_NOISE = 2_000;
const MAX_PENDING_TALKERS = 20_000;
/** Call-IDs remembered per dedupe generation at most (two generations are searched). */
const MAX_DEDUPE_GENERATION = 200_000;
/** DIDs (per trunk) whose count field names are kept; calls to others build theirs each time. */
const MAX_FIELD_NAME_DIDS = 1024;
/** Outcomes by their index in the dedupe tables' payload. */
const OUTCOMES: readonly EdgeOutcome[] = ['unsolicited', 'withheld', 'invalid', 'duplicate', 'blocked'];
const OUTCOME_INDEX: Readonly<Record<EdgeOutcome, number>> = { unsolicited: 0, withheld: 1, invalid: 2, duplicate: 3, blocked: 4 };

/**
 * The worker script's accounting of unsolicited calls (process-calls.ts), done at the edge for the
 * calls the edge itself decided cannot match a session (EdgePrefilter): no per-call Redis work.
 * Same keys and formats, so `ringproof audit export`, the metrics and the docs stay true:
 * per-minute counts `{p}:agg:<minute>` (field trunk|DID|outcome), hourly top talkers (one call in
 * TALKER_SAMPLE by Call-ID, counted TALKER_SAMPLE), the noise trail (one call in noiseSampleEvery,
 * at most noiseMaxPerSecond a second).
 * Written by one pipeline per `flushMs` and on close; while Redis is away the data is kept and
 * merged into the next flush, within bounds (what passes them is dropped and counted).
 *
 * Dedupe is per edge and short (`dedupeMs`): it absorbs a carrier re-sending the same call to the
 * same edge. The same unsolicited call through two edges is counted once by each.
 */
export class EdgeAggregate {
  readonly counts: EdgeDecisionCounts = { decided: { unsolicited: 0, withheld: 0, invalid: 0, duplicate: 0, blocked: 0 }, dropped: 0 };
  private readonly opts: EdgeAggregateOptions;
  /** minute → field → count */
  private minutes = new Map<number, Map<string, number>>();
  private fields = 0;
  /** hour → CLI → weight */
  private talkers = new Map<number, Map<string, number>>();
  private talkerEntries = 0;
  /** [at, data] of sampled calls. */
  private noise: Array<[number, string]> = [];
  /** The second (of receivedAt) whose sampled calls are being written, and how many so far. */
  private noiseSecond = 0;
  private noiseInSecond = 0;
  /**
   * Call-ID (two 32-bit hashes) → first outcome, current and previous generation. Not the Call-ID
   * string itself: the parser's strings are slices of the whole message, which a map held for
   * seconds would keep alive (tens of MB at 16,000 calls/s). Typed-array tables, not Maps of
   * numbers: those boxed every key above 2^31 and grew hash tables in the old generation, which
   * cost a major garbage collection every few seconds at flood rates.
   */
  private seen = new FingerprintTable();
  private seenBefore = new FingerprintTable();
  private seenSince = Date.now();
  /** The Call-ID's second hash, left here by hashCallId() (no allocation per call). */
  private h2 = 0;
  /** trunk → DID → "trunk|DID|outcome" by outcome index: a call builds no string for its count. */
  private readonly fieldNames = new Map<string, Map<string, string[]>>();
  private fieldNameDids = 0;
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private lastErrorLog = 0;

  constructor(opts: EdgeAggregateOptions) {
    this.opts = opts;
    this.timer = setInterval(() => void this.flush(), opts.flushMs ?? 1000);
    this.timer.unref();
  }

  /** Decides and counts a call that matches no session. Returns its outcome. */
  add(e: CallEvent): EdgeOutcome {
    // The worker script's order: no CLI or DID first, then the blocklist (src/verify/scripts/process-calls.ts).
    const first: EdgeOutcome = e.cli === null ? (e.cliOrigin === 'withheld' ? 'withheld' : 'invalid') : e.did === null ? 'invalid' : e.blocked !== undefined ? 'blocked' : 'unsolicited';
    // 64 bits of two FNV-1a passes: two Call-IDs of one window collide about once in 10^10 windows.
    const h = this.hashCallId(e.callId);
    const h2 = this.h2;
    let p = this.seen.find(h | 0, h2, 0, 0);
    if (p < 0) p = this.seenBefore.find(h | 0, h2, 0, 0);
    const prior = p < 0 ? undefined : OUTCOMES[p];
    const label: EdgeOutcome = prior === undefined ? first : 'duplicate';
    if (prior === undefined) this.remember(h | 0, h2, first);
    this.counts.decided[label]++;

    const minute = Math.floor(e.receivedAt / 60_000);
    let m = this.minutes.get(minute);
    if (m === undefined) this.minutes.set(minute, (m = new Map()));
    const field = this.fieldName(e.trunk, e.did ?? '', label);
    const n = m.get(field);
    if (n !== undefined) m.set(field, n + 1);
    else if (this.fields < MAX_PENDING_FIELDS) { m.set(field, 1); this.fields++; }
    else this.counts.dropped++;

    if (prior === undefined && e.cli !== null && (h & (TALKER_SAMPLE - 1)) === 0) {
      const hour = Math.floor(e.receivedAt / 3_600_000);
      let t = this.talkers.get(hour);
      if (t === undefined) this.talkers.set(hour, (t = new Map()));
      const w = t.get(e.cli);
      if (w !== undefined) t.set(e.cli, w + TALKER_SAMPLE);
      else if (this.talkerEntries < MAX_PENDING_TALKERS) { t.set(e.cli, TALKER_SAMPLE); this.talkerEntries++; }
      else this.counts.dropped++;
    }
    const every = this.opts.audit.noiseSampleEvery;
    if ((every <= 1 || (h >>> 3) % every === 0) && this.noiseRoom(e.receivedAt)) {
      if (this.noise.length < MAX_PENDING_NOISE) this.noise.push([Date.now(), noiseData(e, prior ?? first, prior !== undefined)]);
      else this.counts.dropped++;
    }
    return label;
  }

  /** Whether the noise trail takes one more sampled call this second (audit.noiseMaxPerSecond). */
  private noiseRoom(receivedAt: number): boolean {
    const second = Math.floor(receivedAt / 1000);
    if (second !== this.noiseSecond) {
      this.noiseSecond = second;
      this.noiseInSecond = 0;
    }
    return this.noiseInSecond++ < this.opts.audit.noiseMaxPerSecond;
  }

  /** Writes what is pending; resolves when done (or failed: kept for the next flush). */
  flush(): Promise<void> {
    this.flushing ??= this.doFlush().finally(() => { this.flushing = undefined; });
    return this.flushing;
  }

  /** Stops the timer and writes what is pending once more (kept in memory if Redis is away). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.flushing;
    await this.flush();
    if (this.fields + this.noise.length + this.talkerEntries > 0) {
      this.opts.logger.warn({ fields: this.fields, noise: this.noise.length }, 'edge aggregates: Redis unavailable at stop; the last counts of unsolicited calls are lost');
    }
  }

  /** Two generations of Call-IDs, each at most dedupeMs / 2 old (or MAX_DEDUPE_GENERATION entries). */
  private remember(h: number, h2: number, outcome: EdgeOutcome): void {
    const now = Date.now();
    if (this.seen.size >= MAX_DEDUPE_GENERATION || now - this.seenSince >= (this.opts.dedupeMs ?? 10_000) / 2) {
      // The oldest generation is emptied and reused: no new table per rotation.
      const oldest = this.seenBefore;
      oldest.clear();
      this.seenBefore = this.seen;
      this.seen = oldest;
      this.seenSince = now;
    }
    this.seen.add(h, h2, 0, 0, OUTCOME_INDEX[outcome]);
  }

  /** The per-minute count's field, "trunk|DID|outcome", built once per trunk and DID (within a bound). */
  private fieldName(trunk: string, did: string, label: EdgeOutcome): string {
    let byDid = this.fieldNames.get(trunk);
    if (byDid === undefined) this.fieldNames.set(trunk, (byDid = new Map()));
    let names = byDid.get(did);
    if (names === undefined) {
      // A flood to random numbers is not allowed to grow this without end.
      if (this.fieldNameDids >= MAX_FIELD_NAME_DIDS) return `${trunk}|${did}|${label}`;
      names = OUTCOMES.map((o) => `${trunk}|${did}|${o}`);
      byDid.set(did, names);
      this.fieldNameDids++;
    }
    return names[OUTCOME_INDEX[label]] as string;
  }

  /**
   * FNV-1a of the Call-ID from two bases in one pass: returns the first (unsigned; its bits pick the
   * sampled calls) and leaves the second, as int32, in `h2`.
   */
  private hashCallId(s: string): number {
    let a = 0x811c9dc5;
    let b = 0x01000193;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x01000193);
    }
    this.h2 = b | 0;
    return a >>> 0;
  }

  private async doFlush(): Promise<void> {
    if (this.fields + this.noise.length + this.talkerEntries === 0) return;
    const conn = this.opts.connection;
    if (!isRedisReady(conn)) return; // kept for the next flush
    const { keys, audit } = this.opts;
    const [minutes, talkers, noise] = [this.minutes, this.talkers, this.noise];
    this.minutes = new Map();
    this.talkers = new Map();
    this.noise = [];
    this.fields = 0;
    this.talkerEntries = 0;
    const ttl = audit.aggregateRetentionHours * 3600;
    const p = conn.pipeline();
    for (const [minute, m] of minutes) {
      const key = keys.aggregateKey(minute);
      for (const [field, n] of m) p.hincrby(key, field, n);
      p.expire(key, ttl);
    }
    for (const [hour, t] of talkers) {
      const key = keys.talkersKey(hour);
      for (const [cli, w] of t) p.zincrby(key, w, cli);
      // Keeps the 2 x topTalkers heaviest, the bound the worker's script keeps (it trims in steps).
      p.zremrangebyrank(key, 0, -(2 * audit.topTalkers) - 1);
      p.expire(key, ttl);
    }
    for (const [at, data] of noise) p.xadd(keys.noise, 'MAXLEN', '~', String(audit.noiseMaxEntries), '*', 'type', 'call', 'at', String(at), 'data', data);
    try {
      const replies = await p.exec();
      const failed = replies?.find(([err]) => err !== null)?.[0];
      if (failed) throw failed;
    } catch (err) {
      // Not written (or not known written): merged back for the next flush, within the bounds.
      this.noteError(err as Error);
      this.mergeBack(minutes, talkers, noise);
    }
  }

  private mergeBack(minutes: Map<number, Map<string, number>>, talkers: Map<number, Map<string, number>>, noise: Array<[number, string]>): void {
    const merge = (into: Map<number, Map<string, number>>, from: Map<number, Map<string, number>>, room: number): number => {
      let dropped = 0;
      let added = 0;
      for (const [k, m] of from) {
        let cur = into.get(k);
        if (cur === undefined) into.set(k, (cur = new Map()));
        for (const [f, n] of m) {
          const had = cur.get(f);
          if (had !== undefined) cur.set(f, had + n);
          else if (added < room) { cur.set(f, n); added++; }
          else dropped += n;
        }
      }
      this.counts.dropped += dropped;
      return added;
    };
    this.fields += merge(this.minutes, minutes, Math.max(0, MAX_PENDING_FIELDS - this.fields));
    this.talkerEntries += merge(this.talkers, talkers, Math.max(0, MAX_PENDING_TALKERS - this.talkerEntries));
    const room = Math.max(0, MAX_PENDING_NOISE - this.noise.length);
    this.counts.dropped += Math.max(0, noise.length - room);
    this.noise = [...noise.slice(noise.length - Math.min(room, noise.length)), ...this.noise];
  }

  private noteError(err: Error): void {
    const now = Date.now();
    if (now - this.lastErrorLog < 10_000) return;
    this.lastErrorLog = now;
    this.opts.logger.warn({ err: err.message }, 'edge aggregates: Redis did not take the counts of unsolicited calls; kept for the next flush');
  }
}

/** The noise-trail entry of the worker's script: the CallEvent with its outcome fields appended. */
function noiseData(e: CallEvent, first: EdgeOutcome, duplicate: boolean): string {
  const json = JSON.stringify(e);
  const outcome = duplicate ? `"outcome":"duplicate","firstOutcome":"${first}"` : `"outcome":"${first}"`;
  const detail = first === 'unsolicited' ? ',"detail":"no_session"' : first === 'blocked' ? ',"detail":"blocklist"' : '';
  return `${json.slice(0, -1)},${outcome}${detail}}`;
}

