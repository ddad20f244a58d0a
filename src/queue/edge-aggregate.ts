import type { AuditSettings } from '../audit/audit-types.js';
import type { CallEvent } from '../edge/call-event.js';
import type { Logger } from '../log/logger.js';
import { isRedisReady, type RedisConnection } from '../redis/redis-connection.js';
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

/**
 * The worker script's accounting of unsolicited calls (process-calls.ts), done at the edge for the
 * calls the edge itself decided cannot match a session (EdgePrefilter): no per-call Redis work.
 * Same keys and formats, so `ringproof audit export`, the metrics and the docs stay true:
 * per-minute counts `{p}:agg:<minute>` (field trunk|DID|outcome), hourly top talkers (one call in
 * TALKER_SAMPLE by Call-ID, counted TALKER_SAMPLE), the noise trail (one call in noiseSampleEvery).
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
  /**
   * Call-ID (53 bits of two hashes) → first outcome, current and previous generation. Not the
   * Call-ID string itself: the parser's strings are slices of the whole message, which a map held
   * for seconds would keep alive (tens of MB at 16,000 calls/s).
   */
  private seen = new Map<number, EdgeOutcome>();
  private seenBefore = new Map<number, EdgeOutcome>();
  private seenSince = Date.now();
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
    const h = fnv1a(e.callId, 0x811c9dc5);
    // 21 more bits from a second pass: two Call-IDs of one window collide about once in 10^6 windows.
    const id = (fnv1a(e.callId, 0x01000193) >>> 11) * 0x1_0000_0000 + h;
    const prior = this.seen.get(id) ?? this.seenBefore.get(id);
    const label: EdgeOutcome = prior === undefined ? first : 'duplicate';
    if (prior === undefined) this.remember(id, first);
    this.counts.decided[label]++;

    const minute = Math.floor(e.receivedAt / 60_000);
    let m = this.minutes.get(minute);
    if (m === undefined) this.minutes.set(minute, (m = new Map()));
    const field = `${e.trunk}|${e.did ?? ''}|${label}`;
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
    if (every <= 1 || (h >>> 3) % every === 0) {
      if (this.noise.length < MAX_PENDING_NOISE) this.noise.push([Date.now(), noiseData(e, prior ?? first, prior !== undefined)]);
      else this.counts.dropped++;
    }
    return label;
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
  private remember(callId: number, outcome: EdgeOutcome): void {
    const now = Date.now();
    if (this.seen.size >= MAX_DEDUPE_GENERATION || now - this.seenSince >= (this.opts.dedupeMs ?? 10_000) / 2) {
      this.seenBefore = this.seen;
      this.seen = new Map();
      this.seenSince = now;
    }
    this.seen.set(callId, outcome);
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

/** FNV-1a, 32 bits (from `basis`): a cheap, well-spread hash of the Call-ID (no crypto needed). */
function fnv1a(s: string, basis: number): number {
  let h = basis;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
