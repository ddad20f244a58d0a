import type { Cluster, Redis } from 'ioredis';
import type { AuditLog } from '../audit/audit-log.js';
import type { CallEvent } from '../edge/call-event.js';
import type { CallTrust } from '../trust/call-trust.js';
import { CALL_EMIT_LEASE_MS } from './emit-claim-liveness.js';
import { runScript } from './scripts/lua-script.js';
import { claimToken, claimTokenPrefix, DEDUPE_BUCKETS, processCallsScript } from './scripts/process-calls.js';
import type { CallOutcome } from './verification-types.js';
import { DEFAULT_DEDUPE_WINDOW_SECONDS, DEFAULT_RETENTION_SECONDS, DEFAULT_SKEW_MS } from './verify-defaults.js';
import type { VerifyKeys } from './verify-keys.js';

/** The decision of one call, as the batch script returned it. */
export interface CallDecision {
  /** False when an earlier delivery of this Call-ID decided (outcome is that decision). */
  fresh: boolean;
  outcome: CallOutcome;
  sessionId: string;
  detail: string;
  /** The status the session's webhook was already marked for ('' if none). */
  notified: string;
  /** The session hash, only when `claimed`. */
  session: unknown;
  /** The caller holds the verified emit claim. */
  claimed: boolean;
  /** This attempt's token for the call's claim (held when `claimed`; awaitEmitClaim waits with it otherwise). */
  claimToken: string;
}

export interface DecideOptions {
  keys: VerifyKeys;
  /** Names this delivery of the batch (the calls job id); with `attempt`, the emit claim's owner (see claimToken). */
  delivery: string;
  /** Names this run of the delivery: the claim belongs to the attempt (see claimToken). */
  attempt: string;
  audit: AuditLog;
  now: number;
  skewMs?: number;
  retentionSeconds?: number;
  dedupeWindowSeconds?: number;
  /** The caller-trust decision for a call (CallerTrustDecider.decide); default: every call may verify. */
  trustOf?: (e: CallEvent) => CallTrust;
}

const TRUST_ANY: CallTrust = Object.freeze({ refusal: '', byPolicy: '', verdictJson: '' });

/** Calls per script run: bounds one script's time (Redis runs nothing else meanwhile). */
const MAX_CALLS_PER_SCRIPT = 500;

/** The outcome decided without a lookup: a call without a usable CLI or DID can verify nothing. */
function presetOutcome(e: CallEvent): '' | CallOutcome {
  // A blocklisted caller (marked by the edge) never verifies; the script still names its session.
  if (e.blocked !== undefined) return 'blocked';
  if (e.cli === null) return e.cliOrigin === 'withheld' ? 'withheld' : 'invalid';
  return e.did === null ? 'invalid' : '';
}

/** The KEYS of one run: trails, this minute's and hour's aggregates, the dedupe buckets of the window. */
function scriptKeys(opts: DecideOptions): string[] {
  const { keys, now } = opts;
  const bucketMs = dedupeBucketMs(opts.dedupeWindowSeconds ?? DEFAULT_DEDUPE_WINDOW_SECONDS);
  const bucket = Math.floor(now / bucketMs);
  const out = [keys.audit, keys.noise, keys.aggregateKey(Math.floor(now / 60_000)), keys.talkersKey(Math.floor(now / 3_600_000))];
  for (let i = 0; i < DEDUPE_BUCKETS; i++) out.push(keys.dedupeKey(bucket - i));
  return out;
}

/** Each bucket is a third of the window: the four searched always cover the whole window. */
export function dedupeBucketMs(windowSeconds: number): number {
  return Math.max(1000, Math.ceil((windowSeconds * 1000) / (DEDUPE_BUCKETS - 1)));
}

/**
 * Decides a batch of calls with one script run per MAX_CALLS_PER_SCRIPT (one round trip for an edge
 * batch): dedupe, match, verify, audit or aggregate, emit claim. Decisions come back in input order.
 */
export async function decideCalls(redis: Redis | Cluster, events: readonly CallEvent[], opts: DecideOptions): Promise<CallDecision[]> {
  const out: CallDecision[] = [];
  const s = opts.audit.settings;
  const windowS = opts.dedupeWindowSeconds ?? DEFAULT_DEDUPE_WINDOW_SECONDS;
  const aggTtl = s.aggregateRetentionHours * 3600;
  const head: (string | number)[] = [
    opts.keys.session, opts.skewMs ?? DEFAULT_SKEW_MS, opts.retentionSeconds ?? DEFAULT_RETENTION_SECONDS, opts.now,
    opts.audit.evidenceMinId(opts.now), s.noiseMaxEntries, opts.keys.emitClaimPrefix, CALL_EMIT_LEASE_MS,
    Math.ceil((dedupeBucketMs(windowS) * (DEDUPE_BUCKETS + 1)) / 1000), opts.keys.matchPrefix,
    aggTtl, s.topTalkers, aggTtl, s.noiseSampleEvery,
  ];
  const keys = scriptKeys(opts);
  for (let start = 0; start < events.length; start += MAX_CALLS_PER_SCRIPT) {
    const chunk = events.slice(start, start + MAX_CALLS_PER_SCRIPT);
    // The few distinct trust verdicts of the chunk go once in a table (with each one's refusal under
    // every session policy); each call names its entry.
    const verdicts = new Map<CallTrust, number>();
    const index = chunk.map((e) => {
      const t = opts.trustOf?.(e) ?? TRUST_ANY;
      let i = verdicts.get(t);
      if (i === undefined) verdicts.set(t, (i = verdicts.size + 1));
      return i;
    });
    const tokens = claimTokenPrefix(opts.delivery, opts.attempt, start);
    const args = [...head, chunk.length, tokens, verdicts.size];
    for (const t of verdicts.keys()) args.push(t.refusal, t.byPolicy, t.verdictJson);
    chunk.forEach((e, k) => {
      args.push(e.callId, e.did ?? '', e.cli ?? '', e.receivedAt, presetOutcome(e), e.trunk, JSON.stringify(e), index[k] as number);
    });
    const reply = (await runScript(redis, processCallsScript, keys, args)) as unknown[][];
    reply.forEach((r, k) => {
      const claimed = Number(r[6]) === 1;
      out.push({
        fresh: Number(r[0]) === 1,
        outcome: r[1] as CallOutcome,
        sessionId: String(r[2] ?? ''),
        detail: String(r[3] ?? ''),
        notified: String(r[4] ?? ''),
        session: r[5],
        claimed,
        claimToken: claimToken(tokens, k),
      });
    });
  }
  return out;
}
