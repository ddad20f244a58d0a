import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** Clock ticks per second of /proc/PID/stat times (getconf CLK_TCK; 100 on Linux almost always). */
export function clockTicks() {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/** utime+stime of a live process, in clock ticks, or undefined if it is gone. */
export function cpuTicks(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may contain spaces and parentheses: count fields after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime is field 14, stime field 15.
  return Number(rest[11]) + Number(rest[12]);
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
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let text;
    try {
      text = readFileSync(`/proc/${d}/stat`, 'utf8');
    } catch {
      continue;
    }
    const name = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
    const ppidField = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppidField === ppid && name === comm) out.push(Number(d));
  }
  return out;
}
