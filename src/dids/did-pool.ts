import type { DidPoolConfig } from '../config/config-types.js';
import { runScript, type RedisClient } from '../verify/scripts/lua-script.js';
import { verifyKeys } from '../verify/verify-keys.js';
import { changeDidScript, seedDidPoolScript } from './did-pool-scripts.js';

export type DidStatus = 'active' | 'quarantined';

export interface DidRecord {
  did: string;
  status: DidStatus;
  /** Where it came from: the configuration's `dids`, or an operator through the API/CLI. */
  source: 'config' | 'api';
  addedAt: number;
  releasedAt?: number;
  /** A quarantined DID may be restored from then on (if it has gone quiet). */
  quarantineUntil?: number;
  reason?: string;
  restoredAt?: number;
  /** Set by the anomaly watch (did-flag-watch.ts); shown only until it expires. */
  flag?: DidFlag;
}

/** An automatic flag on a DID: why, when, until when, and the rates that raised it. */
export interface DidFlag {
  reason: 'unwanted_calls_spike';
  at: number;
  expiresAt: number;
  /** Unwanted calls per minute in the recent window, and in the baseline before it. */
  recentPerMinute: number;
  baselinePerMinute: number;
}

/** A DID as listed: its record and the unwanted calls it drew in the quiet window. */
export interface DidView extends DidRecord {
  unwantedCalls: number;
}

/** Why a change was refused; the API answers 409 with the message, the CLI prints it. */
export class DidPoolConflict extends Error {
  constructor(message: string, readonly details: Readonly<Record<string, string | number>> = {}) {
    super(message);
    this.name = 'DidPoolConflict';
  }
}

/** No such DID in the pool (404). */
export class DidNotFound extends Error {
  constructor(did: string) {
    super(`DID ${did} is not in the pool`);
    this.name = 'DidNotFound';
  }
}

/**
 * The DID pool in Redis, shared by every API process and the CLI (docs: README "DID pool").
 * `{p}:didpool` holds each DID's record and `{p}:didpool:active` the DIDs in service, from which a
 * new session's callTo is drawn (SRANDMEMBER, one command per creation). The configuration's `dids`
 * seed it (seed()); `add`, `release` and `restore` change it. A released DID is quarantined: out of
 * service for `quarantineDays`, and restored only once it drew at most `restoreMaxUnwantedCalls`
 * unwanted calls (calls that concerned no session: the per-minute counts `{p}:agg:<minute>`) in the
 * last `restoreQuietMinutes`. Pending sessions keep the DID they were given whatever happens to it.
 */
export class DidPool {
  private readonly hash: string;
  private readonly active: string;
  private readonly aggregateKey: (minute: number) => string;
  private settings: DidPoolConfig;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    settings: DidPoolConfig,
    private readonly clock: () => number = Date.now,
  ) {
    this.hash = `${prefix}:didpool`;
    this.active = `${prefix}:didpool:active`;
    this.aggregateKey = verifyKeys(prefix).aggregateKey;
    this.settings = settings;
  }

  /** SIGHUP: the reloaded `didPool` settings. */
  reconfigure(settings: DidPoolConfig): void {
    this.settings = settings;
  }

  get config(): DidPoolConfig {
    return this.settings;
  }

  /** Start-up and SIGHUP: the configuration's `dids` join (see seedDidPoolScript). Resolves with the DIDs in service. */
  async seed(dids: readonly string[]): Promise<number> {
    return Number(await runScript(this.redis, seedDidPoolScript, [this.hash, this.active], [this.clock(), ...dids]));
  }

  /** A DID drawn at random from those in service; undefined when none is. */
  async pick(): Promise<string | undefined> {
    return (await this.redis.srandmember(this.active)) ?? undefined;
  }

  async list(): Promise<DidView[]> {
    const unwanted = await this.unwantedCalls();
    return (await this.records()).sort((a, b) => a.did.localeCompare(b.did)).map((r) => ({ ...r, unwantedCalls: unwanted.get(r.did) ?? 0 }));
  }

  /** Every record, flags past their expiry left out. */
  async records(): Promise<DidRecord[]> {
    return Object.values(await this.redis.hgetall(this.hash)).map((j) => this.current(parseRecord(j))).filter((r): r is DidRecord => r !== undefined);
  }

  async get(did: string): Promise<DidView> {
    const r = this.current(parseRecord(await this.redis.hget(this.hash, did)));
    if (!r) throw new DidNotFound(did);
    return { ...r, unwantedCalls: (await this.unwantedCalls()).get(did) ?? 0 };
  }

  /** Sets a flag on a DID that has none in force; resolves true when it did. Its status is left alone. */
  async flag(did: string, flag: DidFlag): Promise<boolean> {
    const cur = this.current(parseRecord(await this.redis.hget(this.hash, did)));
    if (!cur || cur.flag) return false;
    return (await this.change(did, cur.status, { ...cur, flag }, cur.status === 'active')).ok;
  }

  /** Removes a DID's flag (an operator judged it); resolves with the record after. */
  async unflag(did: string): Promise<DidRecord> {
    const cur = parseRecord(await this.redis.hget(this.hash, did));
    if (!cur) throw new DidNotFound(did);
    const { flag: _f, ...rest } = cur;
    if (!(await this.change(did, cur.status, rest, cur.status === 'active')).ok) return this.unflag(did);
    return rest;
  }

  /** Puts a new DID in service. An active DID is left as it is (created false); a quarantined one must be restored. */
  async add(did: string): Promise<{ record: DidRecord; created: boolean }> {
    const record: DidRecord = { did, status: 'active', source: 'api', addedAt: this.clock() };
    const r = await this.change(did, '', record, true);
    if (r.ok) return { record, created: true };
    if (r.now?.status === 'active') return { record: r.now, created: false };
    throw new DidPoolConflict(`DID ${did} is quarantined until ${iso(r.now?.quarantineUntil)}: restore it instead`, { status: 'quarantined' });
  }

  /** Takes an active DID out of service into quarantine; a quarantined one is left as it is. */
  async release(did: string, opts: { reason?: string; quarantineDays?: number } = {}): Promise<DidRecord> {
    const cur = parseRecord(await this.redis.hget(this.hash, did));
    if (!cur) throw new DidNotFound(did);
    if (cur.status === 'quarantined') return cur;
    if (await this.redis.sismember(this.active, did) === 1 && await this.redis.scard(this.active) <= 1) {
      throw new DidPoolConflict(`DID ${did} is the last one in service: add another before releasing it`, { status: 'active' });
    }
    const now = this.clock();
    const days = opts.quarantineDays ?? this.settings.quarantineDays;
    const record: DidRecord = {
      ...cur, status: 'quarantined', releasedAt: now, quarantineUntil: now + days * 86_400_000,
      ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
    };
    const r = await this.change(did, 'active', record, false);
    if (!r.ok) return this.release(did, opts);
    return record;
  }

  /**
   * Puts a quarantined DID back in service: only after its quarantine (unless `force`, for a release
   * made by mistake) and only while it has gone quiet (never forced: a DID still drawing unwanted
   * calls would hand them to real users' verifications).
   */
  async restore(did: string, opts: { force?: boolean } = {}): Promise<DidRecord> {
    const cur = await this.get(did);
    if (cur.status === 'active') return strip(cur);
    const now = this.clock();
    if (!opts.force && (cur.quarantineUntil ?? 0) > now) {
      throw new DidPoolConflict(`DID ${did} is quarantined until ${iso(cur.quarantineUntil)} (force to restore a release made by mistake)`, {
        quarantineUntil: iso(cur.quarantineUntil),
      });
    }
    const { restoreQuietMinutes: minutes, restoreMaxUnwantedCalls: max } = this.settings;
    if (cur.unwantedCalls > max) {
      throw new DidPoolConflict(`DID ${did} still draws unwanted calls: ${cur.unwantedCalls} in the last ${minutes} min (at most ${max})`, {
        unwantedCalls: cur.unwantedCalls, windowMinutes: minutes,
      });
    }
    const { releasedAt: _r, quarantineUntil: _q, reason: _why, ...kept } = strip(cur);
    const record: DidRecord = { ...kept, status: 'active', restoredAt: now };
    const r = await this.change(did, 'quarantined', record, true);
    if (!r.ok) return this.restore(did, opts);
    return record;
  }

  /** Unwanted calls per DID over the quiet window, from the per-minute counts (field trunk|DID|outcome). */
  private async unwantedCalls(): Promise<Map<string, number>> {
    const minute = Math.floor(this.clock() / 60_000);
    return this.unwantedCallsBetween(minute - this.settings.restoreQuietMinutes + 1, minute);
  }

  /** Unwanted calls per DID in the epoch minutes first..last (inclusive), one pipeline. */
  async unwantedCallsBetween(first: number, last: number): Promise<Map<string, number>> {
    const pipeline = this.redis.pipeline();
    for (let m = first; m <= last; m++) pipeline.hgetall(this.aggregateKey(m));
    const out = new Map<string, number>();
    for (const [err, counts] of (await pipeline.exec()) ?? []) {
      if (err) throw err;
      for (const [field, n] of Object.entries(counts as Record<string, string>)) {
        const did = field.split('|')[1];
        if (did) out.set(did, (out.get(did) ?? 0) + Number(n));
      }
    }
    return out;
  }

  private current(r: DidRecord | undefined): DidRecord | undefined {
    if (r?.flag && r.flag.expiresAt <= this.clock()) {
      const { flag: _f, ...rest } = r;
      return rest;
    }
    return r;
  }

  private async change(did: string, expect: '' | DidStatus, record: DidRecord, inService: boolean): Promise<{ ok: boolean; now?: DidRecord }> {
    const [verdict, now] = (await runScript(this.redis, changeDidScript, [this.hash, this.active], [did, expect, JSON.stringify(record), inService ? '1' : '0'])) as [string, string];
    if (verdict === 'ok') return { ok: true };
    const parsed = parseRecord(now);
    return parsed ? { ok: false, now: parsed } : { ok: false };
  }
}

function parseRecord(json: string | null | undefined): DidRecord | undefined {
  if (!json) return undefined;
  try {
    const r = JSON.parse(json) as Partial<DidRecord>;
    if (typeof r.did !== 'string' || (r.status !== 'active' && r.status !== 'quarantined')) return undefined;
    return r as DidRecord;
  } catch {
    return undefined;
  }
}

function strip(v: DidView | DidRecord): DidRecord {
  const { unwantedCalls: _u, ...r } = v as DidView;
  return r;
}

function iso(ms: number | undefined): string {
  return ms === undefined ? 'unknown' : new Date(ms).toISOString();
}
