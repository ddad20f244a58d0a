// CPU and memory of the processes that do one target's work (a daemon and its redis-server, Kamailio's
// forked children, an edge + workers + API split), grouped by process name so a report can show each
// kind's share and the sum.
import { cpuTicks, memoryKb, pssKb } from './proc-stats.mjs';

/**
 * The CPU ticks of each of `procs` ([{name, pid}]) now, reaped children included (a redis-server's
 * AOF rewrite child is its work too). A process that is gone reads undefined.
 */
export function cpuSnapshot(procs) {
  return procs.map((p) => ({ name: p.name, pid: p.pid, ticks: cpuTicks(p.pid, true) }));
}

/**
 * CPU seconds per process name between two snapshots of the same list, in first-seen order:
 * [{name, pids, cpuS}]; cpuS is NaN when one of the name's processes was gone at either end.
 */
export function cpuByName(s0, s1, ticksPerS) {
  const out = new Map();
  s0.forEach((p, i) => {
    const b = s1[i];
    const d = p.ticks !== undefined && b?.ticks !== undefined ? (b.ticks - p.ticks) / ticksPerS : NaN;
    const e = out.get(p.name) ?? { name: p.name, pids: [], cpuS: 0 };
    e.pids.push(p.pid);
    e.cpuS += d;
    out.set(p.name, e);
  });
  return [...out.values()];
}

/** Total CPU seconds of a cpuByName() result. */
export const totalCpuS = (parts) => parts.reduce((a, p) => a + p.cpuS, 0);

/**
 * Resident memory in MB per process name: {rssMb, hwmMb} of a lone process; for several processes of
 * one name (a forking server), the sum of their PSS, so shared memory is not counted once per child
 * (hwmMb is then NaN: the kernel keeps no peak PSS).
 */
export function memoryByName(procs) {
  const groups = new Map();
  for (const p of procs) groups.set(p.name, [...(groups.get(p.name) ?? []), p.pid]);
  const out = new Map();
  for (const [name, pids] of groups) {
    if (pids.length === 1) {
      const m = memoryKb(pids[0]);
      out.set(name, { rssMb: m ? m.rssKb / 1024 : NaN, hwmMb: m ? m.hwmKb / 1024 : NaN });
    } else {
      const pss = pids.map((pid) => pssKb(pid) ?? 0).reduce((a, b) => a + b, 0);
      out.set(name, { rssMb: pss / 1024, hwmMb: NaN });
    }
  }
  return out;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Idle CPU of each target ([{name, procs()}]) over a quiet `seconds`, every one of its processes
 * counted: [{target, usPerS}], to show how much of a step's CPU is not calls.
 */
export async function idleBaseline(targets, ticksPerS, seconds = 5) {
  const procs = targets.map((t) => t.procs());
  const t0 = procs.map(cpuSnapshot);
  await sleep(seconds * 1000);
  return targets.map((t, i) => ({ target: t.name, usPerS: (totalCpuS(cpuByName(t0[i], cpuSnapshot(procs[i]), ticksPerS)) / seconds) * 1e6 }));
}
