import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { percentileSorted } from './percentile.mjs';

const TIME_BIN = '/usr/bin/time';

function gcd(a, b) {
  return b === 0 ? a : gcd(b, a % b);
}

/** The last row of a SIPp -trace_stat CSV, keyed by column name. */
export function lastStatRow(text) {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length < 2) return undefined;
  const head = lines[0].split(';');
  const vals = lines[lines.length - 1].split(';');
  const row = {};
  head.forEach((h, i) => {
    row[h.trim()] = (vals[i] ?? '').trim();
  });
  return row;
}

/** SIPp writes times as "date<TAB>clock<TAB>epoch.micros": the epoch part, in seconds. */
function epochOf(field) {
  const parts = String(field ?? '').split(/\s+/);
  return Number(parts[parts.length - 1]);
}

/** Response times (ms) of rtd 1 from SIPp's -trace_rtt file(s) in dir. */
export function readRtt(dir) {
  const times = [];
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('_rtt.csv')) continue;
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      const [, rt, rtd] = line.split(';');
      if (rtd === undefined || !/^\d/.test(rt)) continue;
      if (rtd.trim() === '1') times.push(Number(rt));
    }
  }
  return times.sort((a, b) => a - b);
}

/**
 * Runs one SIPp process for one bench step: `rate` calls/s for `duration` s against target, then
 * waits for every call to end. SIPp's own CPU comes from /usr/bin/time (SIPp shares the 2 cores
 * with the daemon under test, so its cost matters when reading the results).
 */
export function runSipp(o) {
  const calls = Math.max(1, Math.round(o.rate * o.duration));
  // -trace_rtt dumps every rtt_freq calls; a divisor of the call count so no tail is left unwritten.
  const rttFreq = gcd(calls, 1000);
  const sippArgs = [
    '-sf', o.scenario,
    ...(o.extraArgs ?? []),
    '-i', '127.0.0.1',
    '-p', String(o.localPort),
    '-t', o.transport === 'tcp' ? 't1' : 'u1',
    '-r', String(o.rate),
    '-rp', '1000',
    '-m', String(calls),
    // Simultaneous calls cap: a healthy target keeps a handful open; 2 s worth only binds when it stalls.
    '-l', String(Math.max(1000, o.rate * 2)),
    '-nostdin',
    // SIPp's default 10 ms scheduler tick shows up in its own response times; 1 ms costs it some CPU.
    '-timer_resol', '1',
    '-trace_stat', '-stf', join(o.workDir, 'stat.csv'), '-fd', '1',
    // Every call's response time; left out (rtt: false) for runs of millions of calls.
    ...(o.rtt === false ? [] : ['-trace_rtt', '-rtt_freq', String(rttFreq)]),
    '-trace_err', '-error_file', join(o.workDir, 'errors.log'),
    '-buff_size', String(8 * 1024 * 1024),
    '-max_socket', '4096',
    '-recv_timeout', '5000',
    '-timeout', `${Math.ceil(o.duration + 30)}s`,
    `${o.targetHost ?? '127.0.0.1'}:${o.targetPort}`,
  ];
  const useTime = existsSync(TIME_BIN);
  const timeFile = join(o.workDir, 'time.txt');
  const [cmd, args] = useTime ? [TIME_BIN, ['-f', '%e %U %S %M', '-o', timeFile, 'sipp', ...sippArgs]] : ['sipp', sippArgs];
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: o.workDir, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    child.stderr.on('data', (c) => {
      stderr = (stderr + c.toString()).slice(-4000);
    });
    let killed = false;
    const hardMs = (o.duration + 45) * 1000;
    const timer = setTimeout(() => {
      killed = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, hardMs);
    child.on('error', (err) => {
      stderr += `\nspawn failed: ${err.message}`;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(collect({ o, calls, code, killed, stderr, wallS: (Date.now() - started) / 1000, useTime, timeFile }));
    });
  });
}

/**
 * The step between SIPp's response times: SIPp reads a coarse kernel clock (CLOCK_MONOTONIC_COARSE,
 * one jiffy: 4 ms at HZ=250), so its rtd values are multiples of that and a fast response that
 * straddles a tick reads as one tick. Found as the gcd of the values seen; NaN if all were 0.
 */
function quantum(sorted) {
  let g = 0;
  let last = -1;
  for (const v of sorted) {
    if (v === last || !(v > 0) || !Number.isInteger(v)) continue;
    last = v;
    g = gcd(v, g);
  }
  return g > 0 ? g : NaN;
}

function collect({ o, calls, code, killed, stderr, wallS, useTime, timeFile }) {
  const statPath = join(o.workDir, 'stat.csv');
  const row = existsSync(statPath) ? lastStatRow(readFileSync(statPath, 'utf8')) : undefined;
  const num = (k) => (row && row[k] !== undefined && row[k] !== '' ? Number(row[k]) : NaN);
  const successful = row ? num('SuccessfulCall(C)') : 0;
  const failedReported = row ? num('FailedCall(C)') : 0;
  // Calls SIPp never finished (killed, global timeout) count as failed too.
  const failed = Math.max(failedReported, calls - successful);
  const elapsedS = row ? epochOf(row.CurrentTime) - epochOf(row.StartTime) : NaN;
  const rtt = readRtt(o.workDir);
  let sippCpuS = NaN;
  if (useTime && existsSync(timeFile)) {
    const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
    const [, user, sys] = last.split(' ').map(Number);
    if (Number.isFinite(user) && Number.isFinite(sys)) sippCpuS = user + sys;
  }
  const errors = existsSync(join(o.workDir, 'errors.log')) ? head(join(o.workDir, 'errors.log'), 64 * 1024) : '';
  return {
    calls,
    successful,
    failed,
    retransmissions: row ? num('Retransmissions(C)') : NaN,
    deadCallMsgs: row ? num('DeadCallMsgs(C)') : NaN,
    outOfCallMsgs: row ? num('OutOfCallMsgs(C)') : NaN,
    elapsedS,
    achievedCps: successful > 0 && elapsedS > 0 ? successful / elapsedS : 0,
    rtt: {
      n: rtt.length,
      quantumMs: quantum(rtt),
      p50: percentileSorted(rtt, 0.5),
      p90: percentileSorted(rtt, 0.9),
      p99: percentileSorted(rtt, 0.99),
      max: rtt.length ? rtt[rtt.length - 1] : NaN,
    },
    sippCpuS,
    wallS,
    exitCode: code,
    killed,
    stderr: stderr.trim(),
    errorSample: errors.split('\n').filter((l) => l.trim() !== '').slice(0, 5).join('\n'),
  };
}

/** The first `bytes` of a file: only a sample of SIPp's error log is reported, and a long flood's log outgrows a string. */
function head(path, bytes) {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    return buf.subarray(0, readSync(fd, buf, 0, bytes, 0)).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
