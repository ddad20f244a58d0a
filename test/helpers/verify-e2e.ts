/**
 * Shared pieces of the verification end-to-end tests (test/e2e/verify-*.test.ts): the built daemon as
 * a real child process, real SIPp runs, the HTTP API, Prometheus scrapes, the audit export, and
 * Standard Webhooks checks. Everything binds to 127.0.0.1 and every wait is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Webhook } from 'standardwebhooks';
import { freePort } from './free-port.js';
import type { ReceivedWebhook } from './webhook-receiver.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI_MAIN = join(REPO_ROOT, 'dist', 'cli', 'main.js');
export const SCENARIO_DIR = join(REPO_ROOT, 'sipp-scenarios');

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

// ---------------------------------------------------------------------------------------------------
// The daemon

export type DaemonRole = 'all' | 'edge' | 'worker' | 'api';

export interface DaemonSpawnOptions {
  /** For logs and error messages. */
  name: string;
  role: DaemonRole;
  redisUrl: string;
  stateDir: string;
  webhookSecret: string;
  /** Default callback (RINGPROOF_WEBHOOK_URL). */
  webhookUrl?: string;
  dids: readonly string[];
  /** YAML configuration passed with --config (written to the state dir). */
  configYaml?: string;
  logLevel?: string;
  /** Milliseconds to wait for /readyz. */
  readyTimeoutMs?: number;
}

export interface DaemonProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly httpUrl: string;
  /** The SIP port (UDP and TCP), for roles that run the edge. */
  readonly sipPort: number | undefined;
  /** The last ~256 KB of stdout+stderr, for failure messages. */
  output(): string;
  /** Resolves once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL, as a crash would; resolves on exit. */
  kill(): Promise<void>;
  /** SIGTERM and wait (bounded; SIGKILL after graceMs). */
  stop(graceMs?: number): Promise<void>;
}

const OUTPUT_KEEP = 256 * 1024;

/** Spawns `node dist/cli/main.js serve` for one role and waits until /readyz answers 200. */
export async function spawnDaemon(opts: DaemonSpawnOptions): Promise<DaemonProcess> {
  if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: run "npx tsc -p ." first`);
  const httpPort = await freePort();
  const runsEdge = opts.role === 'all' || opts.role === 'edge';
  const sipPort = runsEdge ? await freePort() : undefined;
  const args = [CLI_MAIN, 'serve'];
  if (opts.configYaml !== undefined) {
    const file = join(opts.stateDir, `${opts.name}.yaml`);
    writeFileSync(file, opts.configYaml);
    args.push('--config', file);
  }
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    REDIS_URL: opts.redisUrl,
    RINGPROOF_ROLE: opts.role,
    RINGPROOF_STATE_DIR: opts.stateDir,
    RINGPROOF_WEBHOOK_SECRETS: opts.webhookSecret,
    RINGPROOF_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
    RINGPROOF_DIDS: opts.dids.join(','),
    RINGPROOF_LOG_LEVEL: opts.logLevel ?? 'warn',
    // Only the edge binds SIP; other roles get a listen spec that is never used.
    RINGPROOF_SIP_LISTEN: sipPort !== undefined ? `udp:127.0.0.1:${sipPort},tcp:127.0.0.1:${sipPort}` : undefined,
    RINGPROOF_WEBHOOK_URL: opts.webhookUrl,
  };
  const child = spawn(process.execPath, args, { cwd: opts.stateDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (b: Buffer): void => {
    out += b.toString('utf8');
    if (out.length > OUTPUT_KEEP * 2) out = out.slice(-OUTPUT_KEEP);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.once('exit', (code, signal) => res({ code, signal }));
  });
  let gone = false;
  void exited.then(() => { gone = true; });
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const handle: DaemonProcess = {
    name: opts.name,
    child,
    httpUrl,
    sipPort,
    output: () => out.slice(-OUTPUT_KEEP),
    exited,
    async kill() {
      if (!gone) child.kill('SIGKILL');
      await exited;
    },
    async stop(graceMs = 15_000) {
      if (gone) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
  try {
    await waitUntil(`${opts.name} /readyz`, async () => {
      if (gone) throw new Error(`${opts.name} exited during start-up:\n${out.slice(-4000)}`);
      const r = await fetch(`${httpUrl}/readyz`).catch(() => undefined);
      return r?.status === 200 ? true : undefined;
    }, opts.readyTimeoutMs ?? 30_000, 100);
  } catch (err) {
    await handle.kill();
    throw new Error(`${(err as Error).message}\n--- ${opts.name} output ---\n${out.slice(-4000)}`);
  }
  return handle;
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
 * n distinct E.164 numbers in the fictional +1 555 range: +1 555 BB IIIII, unique per `block`
 * (10–99; lower blocks would meet the DIDs +1 555 01x xxxx).
 */
export function phoneNumbers(block: number, n: number): string[] {
  if (!Number.isInteger(block) || block < 10 || block > 99) throw new Error('block must be 10–99');
  if (n > 100_000) throw new Error('at most 100 000 numbers per block');
  return Array.from({ length: n }, (_, i) => `+1555${block}${String(i).padStart(5, '0')}`);
}

// ---------------------------------------------------------------------------------------------------
// Metrics

/** GET /metrics as text. */
export async function scrape(httpUrl: string): Promise<string> {
  const r = await fetch(`${httpUrl}/metrics`);
  if (r.status !== 200) throw new Error(`GET ${httpUrl}/metrics → ${r.status}`);
  return r.text();
}

/** Sum of the samples of `name` whose labels include `labels` (0 when there is none). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map<string, string>();
    for (const lm of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) have.set(lm[1] as string, lm[2] as string);
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum += Number(m[4]);
  }
  return sum;
}

/** Sum of one metric over several processes. */
export async function metricSum(urls: readonly string[], name: string, labels: Record<string, string> = {}): Promise<number> {
  const texts = await Promise.all(urls.map(scrape));
  return texts.reduce((s, t) => s + metricValue(t, name, labels), 0);
}

// ---------------------------------------------------------------------------------------------------
// SIPp

/** One call of an injection file: field0 = CLI, field1 = DID. */
export interface CallRow {
  cli: string;
  did: string;
}

export interface SippRunOptions {
  /** Path of a scenario file, or the XML text (written to a temp file). */
  scenario: string;
  sipPort: number;
  transport?: 'udp' | 'tcp';
  rows: readonly CallRow[];
  /** Calls to place (default rows.length). */
  calls?: number;
  /** Calls per second (default 50). */
  rate?: number;
  /** Kill SIPp after this long (default 60 s). */
  timeoutMs?: number;
  /** SIPp's local port (default: a free one). */
  localPort?: number;
  /** SIPp -cid_str: the Call-ID pattern (default SIPp's, unique per call). */
  callIdPattern?: string;
  /** Resolves after SIPp started, for fault injection during a run. */
  onStarted?: (child: ChildProcess) => void;
}

export interface SippResult {
  exitCode: number | null;
  successful: number;
  failed: number;
  stdout: string;
  stderr: string;
}

/** Runs SIPp as a UAC against the daemon and reads its final counters from the -stf statistics file. */
export async function runSipp(opts: SippRunOptions): Promise<SippResult> {
  const tmp = tempDir('sipp');
  try {
    const scenarioFile = opts.scenario.trimStart().startsWith('<') ? join(tmp.dir, 'scenario.xml') : opts.scenario;
    if (scenarioFile !== opts.scenario) writeFileSync(scenarioFile, opts.scenario);
    const csv = join(tmp.dir, 'calls.csv');
    writeFileSync(csv, ['SEQUENTIAL', ...opts.rows.map((r) => `${r.cli};${r.did}`)].join('\n') + '\n');
    const stf = join(tmp.dir, 'stats.csv');
    const calls = opts.calls ?? opts.rows.length;
    const localPort = opts.localPort ?? await freePort();
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const args = [
      '-sf', scenarioFile, '-inf', csv,
      `127.0.0.1:${opts.sipPort}`,
      '-i', '127.0.0.1', '-p', String(localPort),
      '-t', opts.transport === 'tcp' ? 't1' : 'u1',
      '-m', String(calls), '-r', String(opts.rate ?? 50), '-rp', '1000',
      '-l', String(Math.max(10, opts.rate ?? 50)),
      '-trace_stat', '-stf', stf, '-fd', '1',
      // SIPp's own bound: calls still open then are failed, and SIPp exits.
      '-timeout', `${Math.ceil(timeoutMs / 1000)}s`, '-timeout_error',
      '-nostdin',
    ];
    if (opts.callIdPattern !== undefined) args.push('-cid_str', opts.callIdPattern);
    const child = spawn('sipp', args, { cwd: tmp.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (b: Buffer) => { stdout = (stdout + b.toString('utf8')).slice(-64 * 1024); });
    child.stderr?.on('data', (b: Buffer) => { stderr = (stderr + b.toString('utf8')).slice(-64 * 1024); });
    opts.onStarted?.(child);
    const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 10_000);
    const exitCode = await new Promise<number | null>((res) => {
      child.once('exit', (code) => res(code));
      child.once('error', (err) => { stderr += String(err); res(null); });
    });
    clearTimeout(killer);
    const stats = existsSync(stf) ? parseSippStats(readFileSync(stf, 'utf8')) : { successful: -1, failed: -1 };
    return { exitCode, ...stats, stdout, stderr };
  } finally {
    tmp.remove();
  }
}

/** The cumulative successful/failed call counters of the last line of a SIPp -stf file. */
export function parseSippStats(text: string): { successful: number; failed: number } {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').split(';');
  const last = (lines[lines.length - 1] ?? '').split(';');
  const col = (name: string): number => {
    const i = header.indexOf(name);
    return i < 0 || lines.length < 2 ? -1 : Number(last[i]);
  };
  return { successful: col('SuccessfulCall(C)'), failed: col('FailedCall(C)') };
}

/** The repository's plain scenario: CLI in From (field0), DID in the Request-URI (field1). */
export const SCENARIO_FROM_CLI = join(SCENARIO_DIR, 'uac-reject.xml');

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

// ---------------------------------------------------------------------------------------------------
// Audit trail

export interface AuditLine {
  id: string;
  type: string;
  at: string;
  data: Record<string, unknown>;
}

/** `ringproof audit export` against the given Redis, parsed. */
export async function exportAuditTrail(redisUrl: string, cwd: string): Promise<AuditLine[]> {
  const child = spawn(process.execPath, [CLI_MAIN, 'audit', 'export'], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, REDIS_URL: redisUrl, RINGPROOF_STATE_DIR: cwd, RINGPROOF_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: Buffer[] = [];
  let stderr = '';
  child.stdout?.on('data', (b: Buffer) => chunks.push(b));
  child.stderr?.on('data', (b: Buffer) => { stderr += b.toString('utf8'); });
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
  clearTimeout(killer);
  if (code !== 0) throw new Error(`audit export exited ${code}: ${stderr}`);
  return Buffer.concat(chunks).toString('utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AuditLine);
}
