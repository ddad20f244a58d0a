import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';

/** Clock ticks per second of /proc/PID/stat times (getconf CLK_TCK; 100 on Linux almost always). */
export function clockTicks() {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/**
 * utime+stime of a live process, in clock ticks, or undefined if it is gone. `withReaped`: plus
 * cutime+cstime, the CPU of children it has already waited for (redis-server's AOF rewrite child).
 */
export function cpuTicks(pid, withReaped = false) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may contain spaces and parentheses: count fields after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime is field 14, stime 15, cutime 16, cstime 17.
  return Number(rest[11]) + Number(rest[12]) + (withReaped ? Number(rest[13]) + Number(rest[14]) : 0);
}

/** VmRSS and VmHWM (peak RSS) of a live process, in kB, or undefined if it is gone. */
export function memoryKb(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const field = (name) => {
    const m = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
    return m ? Number(m[1]) : NaN;
  };
  return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') };
}

/** Total CPU ticks of the whole machine (all cores, busy + idle) from /proc/stat, to see how loaded the box was. */
export function machineTicks() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const nums = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = nums[3] + (nums[4] || 0);
  const total = nums.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/**
 * Busy cores of the machine between two machineTicks() readings, less the CPU seconds in `known`
 * (the target, SIPp; non-finite entries skipped) over `wallS`: everything else on the box, i.e.
 * other people's work. Taken as a share of all CPU time times the CPU count: on these VMs /proc/stat
 * loses ticks of idle time in absolute terms, but the busy share stays right.
 */
export function otherLoadCores(box0, box1, known, wallS) {
  const busy = ((box1.busy - box0.busy) / Math.max(1, box1.total - box0.total)) * os.availableParallelism();
  return Math.max(0, busy - known.filter(Number.isFinite).reduce((a, b) => a + b, 0) / wallS);
}

/** Machine-wide UDP datagrams dropped because a socket's receive buffer was full (/proc/net/snmp). */
export function udpRcvbufErrors() {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
    const names = lines[0].split(/\s+/);
    const values = lines[1].split(/\s+/);
    return Number(values[names.indexOf('RcvbufErrors')]);
  } catch {
    return NaN;
  }
}

/** Pids of the live children of `ppid` whose command name (comm) is `comm`, from /proc/PID/stat. */
export function childrenNamed(ppid, comm) {
  return allProcesses().filter((p) => p.ppid === ppid && p.comm === comm).map((p) => p.pid);
}

/** [{pid, ppid, comm}] of every process on the machine, from /proc/PID/stat (processes that vanish meanwhile are skipped). */
function allProcesses() {
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let text;
    try {
      text = readFileSync(`/proc/${d}/stat`, 'utf8');
    } catch {
      continue;
    }
    const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
    const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
    out.push({ pid: Number(d), ppid, comm });
  }
  return out;
}

/** `pid` and all its live descendants, as [{pid, comm}] (the root first): every process a daemon started. */
export function processTree(pid) {
  const all = allProcesses();
  const root = all.find((p) => p.pid === pid);
  if (!root) return [];
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const p of all) if (p.ppid === out[i].pid) out.push(p);
  return out.map(({ pid: p, comm }) => ({ pid: p, comm }));
}

/**
 * Proportional set size (kB) of a live process, from /proc/PID/smaps_rollup: shared pages divided
 * among their users, so a forking server's processes can be summed without counting its shared memory
 * once per child. NaN when the kernel has no smaps_rollup; undefined when the process is gone.
 */
export function pssKb(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch (err) {
    return err.code === 'ENOENT' && !existsProc(pid) ? undefined : NaN;
  }
  const m = /^Pss:\s+(\d+)\s+kB/m.exec(text);
  return m ? Number(m[1]) : NaN;
}

function existsProc(pid) {
  try {
    readFileSync(`/proc/${pid}/stat`);
    return true;
  } catch {
    return false;
  }
}
