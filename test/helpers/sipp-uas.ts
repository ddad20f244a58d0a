import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { parseScreen, scenarioPath, SIPP_BINARY, type SippMessageStat } from './sipp.js';

/** One SIP message SIPp sent or received, from its -trace_msg log. */
export interface WireMessage {
  /** Epoch ms (SIPp's timestamp). */
  at: number;
  direction: 'in' | 'out';
  /** "INVITE", "CANCEL", … for requests; "SIP/2.0" lines give the status. */
  method: string | undefined;
  status: number | undefined;
  text: string;
  header(name: string): string | undefined;
  callId: string;
  branch: string | undefined;
  cseq: string | undefined;
}

export interface SippUasResult {
  exitCode: number | null;
  timedOut: boolean;
  /** Every message on the wire as SIPp saw it, in order. */
  wire: WireMessage[];
  messages: SippMessageStat[];
  stdout: string;
  errors: string;
  successful: number;
  failed: number;
}

export interface SippUas {
  port: number;
  /** SIPp exits after `calls` calls; resolves then (or at the timeout, killed). */
  done: Promise<SippUasResult>;
  kill(): void;
}

function header(text: string, name: string): string | undefined {
  const re = new RegExp(`^${name}\\s*:\\s*(.*)$`, 'im');
  return re.exec(text)?.[1]?.trim();
}

/** Parses SIPp's message log: blocks headed by a dashed line with a timestamp, then "… message sent/received". */
export function parseMessageLog(log: string): WireMessage[] {
  const out: WireMessage[] = [];
  const blocks = log.split(/^-{10,}\s*/m).filter((b) => b.trim() !== '');
  for (const block of blocks) {
    const lines = block.split('\n');
    const stamp = /^(\d{4}-\d{2}-\d{2}\s+\d{2}:\d{2}:\d{2}(?:\.\d+)?)/.exec(lines[0] ?? '');
    const dirLine = lines.find((l) => /message (sent|received)/i.test(l));
    if (!stamp || !dirLine) continue;
    const start = lines.indexOf(dirLine) + 1;
    const text = lines.slice(start).join('\n').replace(/^\s*\n/, '').replace(/\r/g, '');
    const first = text.split('\n')[0] ?? '';
    const status = /^SIP\/2\.0 (\d{3})/.exec(first);
    const [date, time] = (stamp[1] as string).split(/\s+/);
    const at = new Date(`${date}T${(time as string).slice(0, 12)}`).getTime();
    const via = header(text, 'Via') ?? header(text, 'v');
    out.push({
      at,
      direction: /received/i.test(dirLine) ? 'in' : 'out',
      method: status ? undefined : first.split(' ')[0],
      status: status ? Number(status[1]) : undefined,
      text,
      header: (name) => header(text, name),
      callId: header(text, 'Call-ID') ?? header(text, 'i') ?? '',
      branch: via ? /;branch=([^;\s,]+)/.exec(via)?.[1] : undefined,
      cseq: header(text, 'CSeq'),
    });
  }
  return out;
}

/**
 * Starts SIPp as a UAS (the carrier and the phone) on 127.0.0.1 with one of our scenarios, tracing
 * every message. Resolves once SIPp is up.
 */
export async function startSippUas(opts: {
  scenario: string;
  transport: 'udp' | 'tcp';
  calls: number;
  timeoutMs?: number;
  /** Scenario keywords (-key name value), e.g. { ring: '180 Ringing' }. */
  keys?: Record<string, string>;
  extraArgs?: string[];
  /** The UDP/TCP port to listen on (default: a free one), e.g. the port a daemon's trunk names. */
  port?: number;
}): Promise<SippUas> {
  const dir = mkdtempSync(join(tmpdir(), 'rp-sipp-uas-'));
  const port = opts.port ?? await freePort();
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const args = [
    '-sf', scenarioPath(opts.scenario),
    '-t', opts.transport === 'udp' ? 'u1' : 't1',
    '-i', '127.0.0.1', '-p', String(port),
    '-m', String(opts.calls),
    '-timeout', `${Math.ceil(timeoutMs / 1000)}s`, '-timeout_error',
    '-nostdin',
    '-trace_msg', '-message_file', 'msgs.log',
    '-trace_stat', '-stf', 'stats.csv', '-fd', '3600',
    '-trace_err', '-error_file', 'errors.log',
    ...Object.entries(opts.keys ?? {}).flatMap(([k, v]) => ['-key', k, v]),
    ...(opts.extraArgs ?? []),
  ];
  const child = spawn(SIPP_BINARY, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.setEncoding('latin1').on('data', (d: string) => { stdout += d; });
  child.stderr.setEncoding('latin1').on('data', (d: string) => { stdout += d; });
  let timedOut = false;
  const killer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs + 5000);
  const done = new Promise<SippUasResult>((resolve) => {
    child.once('close', (exitCode) => {
      clearTimeout(killer);
      const read = (f: string): string => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'latin1') : '');
      const stats = read('stats.csv').split('\n').filter((l) => l.trim() !== '');
      const head = (stats[0] ?? '').split(';');
      const last = (stats[stats.length - 1] ?? '').split(';');
      const col = (name: string): number => Number(last[head.indexOf(name)] ?? 0);
      resolve({
        exitCode, timedOut, wire: parseMessageLog(read('msgs.log')), messages: parseScreen(stdout), stdout,
        errors: read('errors.log'), successful: col('SuccessfulCall(C)'), failed: col('FailedCall(C)'),
      });
      rmSync(dir, { recursive: true, force: true });
    });
  });
  // SIPp writes its statistics header once its socket is up.
  const t0 = Date.now();
  while (!existsSync(join(dir, 'stats.csv')) && Date.now() - t0 < 10_000 && child.exitCode === null) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 50));
  return { port, done, kill: () => child.kill('SIGKILL') };
}

/**
 * A variant of a scenario with some text replaced (another status line), written to a temp file:
 * SIPp reads status codes when it loads a scenario, so they cannot be -key parameters.
 */
export function scenarioVariant(scenario: string, replace: Record<string, string>): string {
  let text = readFileSync(scenarioPath(scenario), 'latin1');
  for (const [from, to] of Object.entries(replace)) {
    if (!text.includes(from)) throw new Error(`${scenario} has no ${JSON.stringify(from)}`);
    text = text.split(from).join(to);
  }
  const dir = mkdtempSync(join(tmpdir(), 'rp-sipp-variant-'));
  const file = join(dir, scenario.replace(/^.*\//, ''));
  writeFileSync(file, text, 'latin1');
  return file;
}

/** The messages of one call (by Call-ID) in wire order. */
export function callMessages(wire: WireMessage[], callId: string): WireMessage[] {
  return wire.filter((m) => m.callId === callId);
}

/** A compact "in INVITE / out 100 / …" trace of a call, for assertions that read like a ladder. */
export function ladder(msgs: WireMessage[]): string[] {
  return msgs.map((m) => `${m.direction} ${m.method ?? m.status}${m.status === undefined ? '' : ` ${m.cseq?.split(/\s+/)[1] ?? ''}`}`);
}
