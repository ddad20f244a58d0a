import type { CliPoolEntry, OutboundConfig } from '../config/config-types.js';
import type { FailureClass, Q850Reason } from '../sip/uac/index.js';
import type { FlashOutcome, TrunkAttempt } from '../sip/uac/index.js';

/**
 * A flash-call session's own part (issue #12): what the client needs to recognise the call, where
 * the attempt is, and its SIP history. Stored in the session hash (flash* fields), shown as
 * `flashCall` by GET and in webhooks.
 */

/**
 * Where the attempt is. queued: waiting for the worker that owns the UAC; calling: INVITE sent;
 * ringing: a 180/183 arrived; rang: cancelled after the ring (report expected); answered: the phone
 * picked up (billed; the caller ID was shown, a report still verifies); failed: no ring (see class).
 */
export const FLASH_STATES = ['queued', 'calling', 'ringing', 'rang', 'answered', 'failed'] as const;
export type FlashState = (typeof FLASH_STATES)[number];

/** One caller-ID pattern a flash call may come from: the prefix, then `codeLength` code digits. */
export interface CliPattern {
  /** As configured: "+4420794600XX", or a full number. */
  pattern: string;
  prefix: string;
  codeLength: number;
}

/** One trunk's try, as GET shows it. */
export interface FlashAttemptView {
  trunk: string;
  /** The caller ID sent; its code digits are shown as X while the session is pending. */
  cli: string;
  startedAt: string;
  /** Provisional and final statuses received, in order. */
  statuses: number[];
  postDialDelayMs?: number;
  ringMs?: number;
  finalStatus?: number;
  reason?: Q850Reason;
  cancelSent: boolean;
  outcome: FlashOutcome;
  failureClass?: FailureClass;
}

export interface FlashCallView {
  state: FlashState;
  /** The caller IDs the call may come from. */
  cliPatterns: CliPattern[];
  /** Seconds, from creation, within which the phone should ring; past it, tell the user it did not come. */
  waitSeconds: number;
  /** The trunk's final failure class when state is failed. */
  failureClass?: FailureClass;
  /** Reports left before a wrong one fails the session. */
  reportsLeft: number;
  attempts: FlashAttemptView[];
}

/** A full number of the pool carries its last 4 digits as its code (cli-pool.ts). */
const FULL_NUMBER_CODE_DIGITS = 4;

/** The patterns of a configuration's outbound trunks, de-duplicated, in configuration order. */
export function cliPatterns(outbound: OutboundConfig): CliPattern[] {
  const out = new Map<string, CliPattern>();
  for (const t of outbound.trunks) for (const e of t.cliPool) out.set(e.text, patternOf(e));
  return [...out.values()];
}

function patternOf(e: CliPoolEntry): CliPattern {
  if (e.digits > 0) return { pattern: e.text, prefix: e.prefix, codeLength: e.digits };
  return { pattern: e.text, prefix: e.prefix.slice(0, -FULL_NUMBER_CODE_DIGITS), codeLength: FULL_NUMBER_CODE_DIGITS };
}

/** How long the app should wait for the ring: a trunk slot, then the ring timeout, then 2 s of slack. */
export function flashWaitSeconds(outbound: OutboundConfig): number {
  return Math.ceil((outbound.maxQueueMs + outbound.ringTimeoutMs) / 1000) + 2;
}

/** The code digits of a CLI that rang: as many trailing digits as the pattern it matches carries. */
export function codeLengthOf(cli: string, patterns: readonly CliPattern[]): number {
  let best: CliPattern | undefined;
  for (const p of patterns) {
    if (cli.length === p.prefix.length + p.codeLength && cli.startsWith(p.prefix) && (best === undefined || p.prefix.length > best.prefix.length)) best = p;
  }
  return best?.codeLength ?? FULL_NUMBER_CODE_DIGITS;
}

/** The stored form of one attempt (times as epoch ms). */
export function attemptRecord(a: TrunkAttempt): Record<string, unknown> {
  return {
    trunk: a.trunk, cli: a.cli, startedAt: a.startedAt, statuses: a.statuses, postDialDelayMs: a.postDialDelayMs, ringMs: a.ringMs,
    finalStatus: a.finalStatus, reason: a.reason, cancelSent: a.cancelSent, outcome: a.outcome, failureClass: a.failureClass,
  };
}

const isState = (s: string | undefined): s is FlashState => (FLASH_STATES as readonly string[]).includes(s ?? '');

/**
 * The flashCall view of a session hash; undefined for an inbound session. `reveal`: show the caller
 * IDs whole (the session is over), else their code digits are masked.
 */
export function flashCallView(h: Record<string, string>, reveal: boolean): FlashCallView | undefined {
  if (h.method !== 'flash_call' || !isState(h.flashState)) return undefined;
  const patterns = parseJson<CliPattern[]>(h.flashPatterns) ?? [];
  const attempts = (parseJson<Array<Record<string, unknown>>>(h.flashAttempts) ?? []).map((a) => attemptView(a, patterns, reveal));
  const view: FlashCallView = {
    state: h.flashState,
    cliPatterns: patterns,
    waitSeconds: Number(h.flashWaitSeconds ?? 0),
    reportsLeft: Math.max(0, Number(h.flashReportsMax ?? 0) - Number(h.flashReportTries ?? 0)),
    attempts,
  };
  if (h.flashClass) view.failureClass = h.flashClass as FailureClass;
  return view;
}

function attemptView(a: Record<string, unknown>, patterns: readonly CliPattern[], reveal: boolean): FlashAttemptView {
  const cli = String(a.cli ?? '');
  const code = codeLengthOf(cli, patterns);
  const v: FlashAttemptView = {
    trunk: String(a.trunk ?? ''),
    cli: reveal ? cli : cli.slice(0, Math.max(0, cli.length - code)) + 'X'.repeat(Math.min(code, cli.length)),
    startedAt: new Date(Number(a.startedAt ?? 0)).toISOString(),
    statuses: Array.isArray(a.statuses) ? a.statuses.map(Number) : [],
    cancelSent: a.cancelSent === true,
    outcome: a.outcome as FlashOutcome,
  };
  if (typeof a.postDialDelayMs === 'number') v.postDialDelayMs = a.postDialDelayMs;
  if (typeof a.ringMs === 'number') v.ringMs = a.ringMs;
  if (typeof a.finalStatus === 'number') v.finalStatus = a.finalStatus;
  if (a.reason && typeof a.reason === 'object') v.reason = a.reason as Q850Reason;
  if (typeof a.failureClass === 'string') v.failureClass = a.failureClass as FailureClass;
  return v;
}

function parseJson<T>(text: string | undefined): T | undefined {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
