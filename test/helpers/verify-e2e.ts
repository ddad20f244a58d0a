/**
 * Shared pieces of the verification end-to-end tests (test/e2e/verify-*.test.ts), on top of the
 * generic helpers (daemon-process.ts, sipp.ts, metrics-scrape.ts): daemons wired to a Redis for
 * verification, SIPp calls made from sessions, the HTTP API, the audit export, and Standard Webhooks
 * checks. Everything binds to 127.0.0.1 and every wait is bounded.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { expect } from 'vitest';
import { runRingproof, startDaemonProcess, type DaemonProcess } from './daemon-process.js';
import type { Labels } from './metrics-scrape.js';
import { describeSipp, runSipp, type SippResult } from './sipp.js';
import type { ReceivedWebhook } from './webhook-receiver.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A fresh Standard Webhooks secret: "whsec_" + base64 of a 32-byte key. */
export function newWebhookSecret(): string {
  return 'whsec_' + randomBytes(32).toString('base64');
}

/** A temp dir removed by the returned cleanup. */
export function tempDir(label: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `rp-e2e-${label}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Polls `probe` until it returns a value other than undefined, or throws after timeoutMs. */
export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
    }
    await sleep(everyMs);
  }
}

/**
 * Waits until an edge's pending-number copy is proven complete (its watermark gauge is finite): only
 * then does the edge decide calls itself and count them for its anomaly detectors. Right after
 * /readyz the subscriber may still be connecting, and calls placed then are not counted.
 */
export async function waitPrefilterExact(daemon: { metrics(): Promise<{ get(name: string): number }> }, timeoutMs = 10_000): Promise<void> {
  await waitUntil('the edge pre-filter is exact', async () =>
    (Number.isFinite((await daemon.metrics()).get('ringproof_prefilter_watermark_age_seconds')) ? true : undefined), timeoutMs);
}

// ---------------------------------------------------------------------------------------------------
// The daemon (test/helpers/daemon-process.ts), set up for verification

export type DaemonRole = 'all' | 'edge' | 'worker' | 'api';

export interface VerifyDaemonOptions {
  /** For failure messages. */
  name: string;
  role: DaemonRole;
  redisUrl: string;
  webhookSecret: string;
  /** Default callback (RINGPROOF_WEBHOOK_URL). */
  webhookUrl?: string;
  dids: readonly string[];
  /** YAML configuration passed with --config (written to a temp file, removed once the daemon is up). */
  configYaml?: string;
  /** Keep the configuration file (VerifyDaemon.configFile), for tests that rewrite it and send SIGHUP; the test removes it. */
  keepConfig?: boolean;
  logLevel?: string;
  /** More environment, over the defaults (e.g. RINGPROOF_CALL_LIMITS_ENABLED: undefined to let the file decide). */
  env?: Record<string, string | undefined>;
}

/** A daemon process and its name. sipPort is only served by roles that run the edge. */
export interface VerifyDaemon extends DaemonProcess {
  readonly name: string;
  /** The last `n` lines of its stdout and stderr. */
  tail(n?: number): string;
  /** The --config file, when kept (keepConfig). */
  readonly configFile?: string;
}

/** `ringproof serve` for one role, with the calls queue in the given Redis (not the log sink). */
export async function startVerifyDaemon(opts: VerifyDaemonOptions): Promise<VerifyDaemon> {
  let configFile: string | undefined;
  let configDir: { dir: string; remove(): void } | undefined;
  if (opts.configYaml !== undefined) {
    configDir = tempDir('config');
    configFile = join(configDir.dir, `${opts.name}.yaml`);
    writeFileSync(configFile, opts.configYaml);
  }
  try {
    const d = await startDaemonProcess({
      ...(configFile !== undefined ? { configFile } : {}),
      // A deadline, not a wait: on a loaded 2-core machine five daemons booting at once took over 30 s.
      readyTimeoutMs: 60_000,
      env: {
        REDIS_URL: opts.redisUrl,
        RINGPROOF_ROLE: opts.role,
        RINGPROOF_EVENT_SINK: 'queue',
        RINGPROOF_WEBHOOK_SECRETS: opts.webhookSecret,
        RINGPROOF_WEBHOOK_URL: opts.webhookUrl,
        // The receivers run on loopback, which webhooks may reach only when allowed.
        RINGPROOF_WEBHOOK_ALLOW_PRIVATE_TARGETS: '127.0.0.0/8',
        RINGPROOF_DIDS: opts.dids.join(','),
        RINGPROOF_LOG_LEVEL: opts.logLevel ?? 'warn',
        ...opts.env,
      },
    });
    // The config file is read once at start, unless the test reloads it.
    if (opts.keepConfig !== true) configDir?.remove();
    return Object.assign(d, {
      name: opts.name,
      ...(opts.keepConfig === true && configFile !== undefined ? { configFile } : {}),
      tail: (n = 20) => [...d.logs.stdout.slice(-n), ...d.logs.stderr.slice(-n)].join('\n'),
    });
  } catch (err) {
    configDir?.remove();
    throw new Error(`${opts.name}: ${(err as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// The HTTP API

export interface VerificationView {
  id: string;
  status: string;
  phoneNumber: string;
  callTo: string;
  expiresAt: string;
  createdAt: string;
  verifiedAt?: string;
  callId?: string;
  callerTrust?: { result: string; verstat: string; attest: string | null; identity?: string; spc?: string | null; cliSource?: string; networkAsserted?: boolean };
  callerTrustPolicy?: { failed: string; minAttestation: string; requireNetworkAsserted: boolean };
  lastRejection?: { reason: string; at: string };
  phoneNumberInfo?: Record<string, unknown>;
}

export async function createVerification(apiUrl: string, body: Record<string, unknown>): Promise<VerificationView> {
  const r = await fetch(`${apiUrl}/v1/verifications`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  if (r.status !== 201) throw new Error(`POST /v1/verifications ${JSON.stringify(body)} → ${r.status} ${text}`);
  return JSON.parse(text) as VerificationView;
}

export async function getVerification(apiUrl: string, id: string): Promise<VerificationView> {
  const r = await fetch(`${apiUrl}/v1/verifications/${encodeURIComponent(id)}`);
  const text = await r.text();
  if (r.status !== 200) throw new Error(`GET /v1/verifications/${id} → ${r.status} ${text}`);
  return JSON.parse(text) as VerificationView;
}

/** Creates sessions with bounded parallelism (the API process is shared with other work). */
export async function createMany(apiUrl: string, phoneNumbers: readonly string[], ttlSeconds: number, parallel = 10): Promise<VerificationView[]> {
  const out: VerificationView[] = new Array(phoneNumbers.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < phoneNumbers.length) {
      const i = next++;
      out[i] = await createVerification(apiUrl, { phoneNumber: phoneNumbers[i], ttlSeconds });
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  return out;
}

/**
 * n distinct E.164 numbers +1 202 5BB IIII, unique per `block` (10–99): valid US numbers (Washington
 * DC area code, exchange 5BB), so the default number policy accepts them, and far from the demo DIDs.
 */
export function phoneNumbers(block: number, n: number): string[] {
  if (!Number.isInteger(block) || block < 10 || block > 99) throw new Error('block must be 10–99');
  if (n > 10_000) throw new Error('at most 10 000 numbers per block');
  return Array.from({ length: n }, (_, i) => `+12025${block}${String(i).padStart(4, '0')}`);
}

// ---------------------------------------------------------------------------------------------------
// Metrics (test/helpers/metrics-scrape.ts) summed over processes

/** Sum of one metric over several processes (e.g. outcome counters of every worker). */
export async function metricSum(daemons: readonly DaemonProcess[], name: string, labels: Labels = {}): Promise<number> {
  const snaps = await Promise.all(daemons.map((d) => d.metrics()));
  return snaps.reduce((sum, m) => sum + m.get(name, labels), 0);
}

// ---------------------------------------------------------------------------------------------------
// SIPp (test/helpers/sipp.ts) with calls made for sessions

/** One call of an injection file: field0 = CLI, field1 = DID, then `more` (uac-verstat.xml: verstat; uac-identity.xml: PASSporT, x5u). */
export interface CallRow {
  cli: string;
  did: string;
  more?: readonly string[];
}

export interface PlaceCallsOptions {
  /** A scenario in sipp-scenarios/ ("uac-reject.xml"), a path, or XML text (written to a temp file). */
  scenario: string;
  /** The edge to call. */
  daemon: DaemonProcess;
  transport?: 'udp' | 'tcp';
  rows: readonly CallRow[];
  /** Calls per second (default 50). */
  rate?: number;
  /** SIPp's local port (default: a free one). */
  localPort?: number;
  /** SIPp -cid_str: the Call-ID pattern (default SIPp's, unique per call). */
  callIdPattern?: string;
  timeoutMs?: number;
}

/** One SIPp run placing one call per row (the injection file's lines in order). */
export async function placeCalls(opts: PlaceCallsOptions): Promise<SippResult> {
  const tmp = tempDir('calls');
  try {
    let scenario = opts.scenario;
    if (scenario.trimStart().startsWith('<')) {
      scenario = join(tmp.dir, 'scenario.xml');
      writeFileSync(scenario, opts.scenario);
    }
    const injection = join(tmp.dir, 'calls.csv');
    writeFileSync(injection, ['SEQUENTIAL', ...opts.rows.map((r) => [r.cli, r.did, ...(r.more ?? [])].join(';'))].join('\n') + '\n');
    const rate = opts.rate ?? 50;
    return await runSipp({
      scenario,
      injection,
      transport: opts.transport ?? 'udp',
      target: `127.0.0.1:${opts.daemon.sipPort}`,
      calls: opts.rows.length,
      rate,
      timeoutMs: opts.timeoutMs ?? 60_000,
      ...(opts.localPort !== undefined ? { localPort: opts.localPort } : {}),
      extraArgs: ['-rp', '1000', '-l', String(Math.max(20, rate)), ...(opts.callIdPattern !== undefined ? ['-cid_str', opts.callIdPattern] : [])],
    });
  } finally {
    tmp.remove();
  }
}

/** SIPp ran every call to its end: each INVITE got the edge's reject and was ACKed. */
export function expectAllCallsRejected(r: SippResult, calls: number): void {
  const why = describeSipp(r);
  expect(r.exitCode, why).toBe(0);
  expect(r.stats.successful, why).toBe(calls);
  expect(r.stats.failed, why).toBe(0);
}

/** The repository's plain scenario: CLI in From (field0), DID in the Request-URI (field1). */
export const SCENARIO_FROM_CLI = 'uac-reject.xml';

/** The repository's caller-trust scenario: CLI in a PAI tel URI with verstat (field2), and in From. */
export const SCENARIO_VERSTAT = 'uac-verstat.xml';

/** The repository's STIR/SHAKEN scenario: CLI in PAI and From, an Identity header (field2 PASSporT, field3 x5u). */
export const SCENARIO_IDENTITY = 'uac-identity.xml';

// The scenarios below are specific to these tests (withheld CLI, duplicate INVITEs); they live here,
// not in sipp-scenarios/, which holds the scenarios users run.

const SDP_LESS_INVITE = (branch: string, extra: string, from: string): string => `
      INVITE sip:[field1]@[remote_ip]:[remote_port];user=phone SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=${branch};rport
      Max-Forwards: 70
      From: ${from};tag=[pid]SIPpTag00[call_number]
      To: <sip:[field1]@[remote_ip]:[remote_port];user=phone>
      Call-ID: [call_id]
      CSeq: 1 INVITE
${extra}      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      User-Agent: ringproof-e2e
      Content-Length: 0
`;

const ACK = (branch: string, from: string): string => `
      ACK sip:[field1]@[remote_ip]:[remote_port];user=phone SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=${branch};rport
      Max-Forwards: 70
      From: ${from};tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Content-Length: 0
`;

const FROM_CLI = '<sip:[field0]@[local_ip]:[local_port];user=phone>';
const FROM_ANONYMOUS = '"Anonymous" <sip:anonymous@anonymous.invalid>';

/** Answer 486 or 603 (either is the edge's reject), then go on at `next`. */
const REJECT = (next: string): string => `
  <recv response="486" optional="true" next="${next}"/>
  <recv response="603"/>
  <label id="${next}"/>
`;

const xml = (name: string, body: string): string =>
  `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<!DOCTYPE scenario SYSTEM "sipp.dtd">\n<scenario name="${name}">\n${body}\n</scenario>\n`;

/**
 * The caller hides the CLI: the number is in P-Asserted-Identity (so it is there to be misread) but
 * `Privacy: id` asks for it to be withheld, and From is anonymous.
 */
export const SCENARIO_WITHHELD = xml('withheld CLI (Privacy: id)', `
  <send retrans="500"><![CDATA[
${SDP_LESS_INVITE('[branch]', '      P-Asserted-Identity: <sip:[field0]@[local_ip];user=phone>\n      Privacy: id\n', FROM_ANONYMOUS)}
  ]]></send>
${REJECT('r1')}
  <send><![CDATA[
${ACK('[branch-3]', FROM_ANONYMOUS)}
  ]]></send>
`);

const FIXED_FROM = '<sip:[field0]@[local_ip]:[local_port];user=phone>';
const FIXED_BRANCH = 'z9hG4bK-retx-[field0]';
const FIXED_TAG = ';tag=retx-[field0]';

const fixedInvite = (): string => SDP_LESS_INVITE(FIXED_BRANCH, '', FIXED_FROM).replace(';tag=[pid]SIPpTag00[call_number]', FIXED_TAG);

/**
 * A UDP INVITE retransmission as a carrier sends it when the answer got lost, in two SIPp runs
 * from the same local port with the same Call-ID (-cid_str without %u/%p), Via branch and From tag:
 * `original` sends the INVITE and takes the answer but does not ACK (as if it never arrived), so
 * the transaction stays in Completed state; `retransmission` sends the very same INVITE, which must be
 * answered again, and ACKs. Done in one SIPp call, the first answer races the second send and SIPp
 * aborts the call on it.
 */
export const SCENARIO_RETRANSMISSION_PAIR = {
  original: xml('INVITE whose answer is lost (no ACK)', `
  <send><![CDATA[
${fixedInvite()}
  ]]></send>
${REJECT('r1')}
`),
  retransmission: xml('the same INVITE retransmitted', `
  <send retrans="500"><![CDATA[
${fixedInvite()}
  ]]></send>
${REJECT('r1')}
  <send><![CDATA[
${ACK(FIXED_BRANCH, FIXED_FROM).replace(';tag=[pid]SIPpTag00[call_number]', FIXED_TAG)}
  ]]></send>
`),
};

/**
 * A carrier re-sending the call after it was rejected: a new INVITE transaction (new Via branch)
 * with the same Call-ID. Both are rejected; the call must still count once.
 */
export const SCENARIO_RESEND_NEW_BRANCH = xml('INVITE re-sent with a new branch, same Call-ID', `
  <send retrans="500"><![CDATA[
${SDP_LESS_INVITE('[branch]', '', FROM_CLI)}
  ]]></send>
${REJECT('r1')}
  <send><![CDATA[
${ACK('[branch-3]', FROM_CLI)}
  ]]></send>
  <send retrans="500"><![CDATA[
${SDP_LESS_INVITE('[branch]', '', FROM_CLI)}
  ]]></send>
${REJECT('r2')}
  <send><![CDATA[
${ACK('[branch-3]', FROM_CLI)}
  ]]></send>
`);

// ---------------------------------------------------------------------------------------------------
// Webhooks

export interface VerifiedWebhook {
  webhookId: string;
  type: string;
  sessionId: string;
  status: string;
  body: Record<string, unknown> & { id: string; type: string; data: { verification: VerificationView; fallback?: { suggested: string; reason: string } } };
}

/**
 * Checks the Standard Webhooks signature with the reference library and returns the parsed event.
 * Throws when the signature does not verify.
 */
export function verifyWebhook(secret: string, w: ReceivedWebhook): VerifiedWebhook {
  const headers: Record<string, string> = {};
  for (const k of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
    const v = w.headers[k];
    headers[k] = Array.isArray(v) ? v.join(',') : (v ?? '');
  }
  const body = new Webhook(secret).verify(w.body, headers) as VerifiedWebhook['body'];
  return {
    webhookId: headers['webhook-id'] as string,
    type: body.type,
    sessionId: body.data.verification.id,
    status: body.data.verification.status,
    body,
  };
}

/** Webhooks of one type, verified, grouped by session id. */
export function webhooksBySession(secret: string, received: readonly ReceivedWebhook[], type: string): Map<string, VerifiedWebhook[]> {
  const out = new Map<string, VerifiedWebhook[]>();
  for (const w of received) {
    const v = verifyWebhook(secret, w);
    if (v.type !== type) continue;
    const list = out.get(v.sessionId) ?? [];
    list.push(v);
    out.set(v.sessionId, list);
  }
  return out;
}

/** Verified webhooks of some sessions, as the receiver got them (signatures checked). */
export interface VerifiedDeliveries {
  /** Webhook-ids of every delivery per session id (a redelivery repeats its id). */
  raw: Map<string, string[]>;
  /** Distinct webhook-ids per session id: the events. */
  ids: Map<string, Set<string>>;
  /** Bodies per webhook-id (a redelivery must be the same event). */
  bodies: Map<string, Set<string>>;
  /** receivedAt of every delivery, in arrival order. */
  times: number[];
}

export function verifiedDeliveries(secret: string, received: readonly ReceivedWebhook[], sessionIds: ReadonlySet<string>): VerifiedDeliveries {
  const out: VerifiedDeliveries = { raw: new Map(), ids: new Map(), bodies: new Map(), times: [] };
  for (const w of received) {
    const v = verifyWebhook(secret, w);
    if (v.type !== 'verification.verified' || !sessionIds.has(v.sessionId)) continue;
    out.raw.set(v.sessionId, [...(out.raw.get(v.sessionId) ?? []), v.webhookId]);
    out.ids.set(v.sessionId, (out.ids.get(v.sessionId) ?? new Set()).add(v.webhookId));
    out.bodies.set(v.webhookId, (out.bodies.get(v.webhookId) ?? new Set()).add(w.body));
    out.times.push(w.receivedAt);
  }
  return out;
}

/** ms from `since` to the last verified delivery for these sessions (0 when none came after it). */
export function lastDeliveryAfter(d: VerifiedDeliveries, since: number): number {
  return Math.max(since, ...d.times) - since;
}

/** One call row per session: the session's number calls its callTo. */
export const rowsFor = (sessions: readonly VerificationView[]): CallRow[] => sessions.map((s) => ({ cli: s.phoneNumber, did: s.callTo }));

/** Unsolicited calls: n CLIs of `block` nobody asked to verify, spread over the DIDs. */
export const unsolicitedRows = (block: number, n: number, dids: readonly string[]): CallRow[] =>
  phoneNumbers(block, n).map((cli, i) => ({ cli, did: dids[i % dids.length]! }));

/** Waits until the receiver holds a verified webhook (signature checked) for every session. */
export async function waitVerifiedWebhooks(
  secret: string, received: readonly ReceivedWebhook[], sessions: readonly VerificationView[], timeoutMs: number,
): Promise<void> {
  const ids = new Set(sessions.map((s) => s.id));
  await waitUntil('a verified webhook for every session', () => {
    const got = new Set<string>();
    for (const w of received) {
      const v = verifyWebhook(secret, w);
      if (v.type === 'verification.verified' && ids.has(v.sessionId)) got.add(v.sessionId);
    }
    return got.size === ids.size ? got : undefined;
  }, timeoutMs, 100);
}

// ---------------------------------------------------------------------------------------------------
// Audit trail

export interface AuditLine {
  id: string;
  type: string;
  at: string;
  data: Record<string, unknown>;
}

/** `ringproof audit export` against the given Redis, parsed. */
export async function exportAuditTrail(redisUrl: string): Promise<AuditLine[]> {
  const r = await runRingproof(['audit', 'export'], { env: { REDIS_URL: redisUrl, RINGPROOF_LOG_LEVEL: 'warn' }, timeoutMs: 30_000 });
  if (r.exitCode !== 0) throw new Error(`audit export exited ${r.exitCode}: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AuditLine);
}

/**
 * Decisions per Call-ID of the calls from these numbers, from the audit trail: "outcome sessionId".
 * A redelivered job records 'duplicate' with the first delivery's decision in firstOutcome, so a
 * call decided once has exactly one entry whatever the redeliveries.
 */
export function callDecisions(audit: readonly AuditLine[], phones: ReadonlySet<string>): Map<string, Set<string>> {
  const decided = new Map<string, Set<string>>();
  for (const r of audit) {
    if (r.type !== 'call' || !phones.has(r.data.cli as string)) continue;
    const outcome = (r.data.outcome === 'duplicate' ? r.data.firstOutcome : r.data.outcome) as string;
    const callId = r.data.callId as string;
    decided.set(callId, (decided.get(callId) ?? new Set()).add(`${outcome} ${r.data.sessionId as string}`));
  }
  return decided;
}
