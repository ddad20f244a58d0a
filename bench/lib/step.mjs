import { mkdirSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.mjs';
import { cpuTicks, machineTicks, memoryKb, udpRcvbufErrors } from './proc-stats.mjs';
import { scrape, stepDelta, sum } from './prom-scrape.mjs';
import { runSipp } from './sipp-run.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * After the load, ringproof still holds its transactions (UDP: timer I, T4 = 5 s, after the ACK).
 * Expiring them is work done for those calls, so the CPU window runs until they are gone (or the
 * settle limit). Polled once a second: each scrape costs the daemon CPU too.
 */
export async function settle(target, limitS) {
  const started = Date.now();
  // Some targets hold state the daemon's gauge does not show (drachtio-server's own transactions).
  const minMs = Math.min(target.minSettleS ?? 0, limitS) * 1000;
  for (;;) {
    const s = await scrape(target.httpPort);
    const open = sum(s, 'ringproof_sip_transactions');
    const elapsed = Date.now() - started;
    if (s === undefined || (!(open > 0) && elapsed >= minMs) || elapsed >= limitS * 1000) {
      return { samples: s, settleS: (Date.now() - started) / 1000, openAfter: open };
    }
    await sleep(1000);
  }
}

/** One rung of the ladder against one target: SIPp load, then the target's CPU, memory and metrics. */
export async function measureStep({ target, rate, opts, scenario, workRoot, ticksPerS, idleUsPerS = 0, tag = '' }) {
  const workDir = join(workRoot, `${target.name}-${rate}${tag}`);
  mkdirSync(workDir, { recursive: true });
  const before = target.httpPort ? await scrape(target.httpPort) : undefined;
  const localPort = await freePort();
  const extra = target.extraPids ?? [];
  const extra0 = extra.map((p) => cpuTicks(p.pid));
  const cpu0 = cpuTicks(target.pid);
  const box0 = machineTicks();
  const drops0 = udpRcvbufErrors();
  const t0 = Date.now();
  const sipp = await runSipp({
    ...(target.scenario ?? scenario),
    targetHost: target.sipHost,
    rate,
    duration: opts.duration,
    transport: opts.transport,
    localPort,
    targetPort: target.sipPort,
    workDir,
  });
  const cpuLoadEnd = cpuTicks(target.pid);
  const extraLoadEnd = extra.map((p) => cpuTicks(p.pid));
  const box1 = machineTicks();
  const drops1 = udpRcvbufErrors();
  let after;
  let settleS = 0;
  let openAfter = NaN;
  if (target.httpPort) {
    const s = await settle(target, opts.settle);
    after = s.samples;
    settleS = s.settleS;
    openAfter = s.openAfter;
  }
  const cpu1 = cpuTicks(target.pid);
  const extra1 = extra.map((p) => cpuTicks(p.pid));
  const windowS = (Date.now() - t0) / 1000;
  const mem = memoryKb(target.pid);

  const alive = cpu1 !== undefined && target.alive();
  const ownCpuS = alive ? (cpu1 - cpu0) / ticksPerS : NaN;
  const ownLoadCpuS = alive ? (cpuLoadEnd - cpu0) / ticksPerS : NaN;
  // Per process that does this target's work (the target itself first), so the report can show each
  // one's share and the sum: behind drachtio-server, a call costs drachtio-server's CPU too.
  const parts = [
    { name: target.name, pid: target.pid, cpuS: ownCpuS, loadCpuS: ownLoadCpuS, mem },
    ...extra.map((p, i) => {
      const m = memoryKb(p.pid);
      const ok = extra0[i] !== undefined && extra1[i] !== undefined;
      return {
        name: p.name,
        pid: p.pid,
        cpuS: ok ? (extra1[i] - extra0[i]) / ticksPerS : NaN,
        loadCpuS: ok && extraLoadEnd[i] !== undefined ? (extraLoadEnd[i] - extra0[i]) / ticksPerS : NaN,
        mem: m,
      };
    }),
  ].map((p) => ({
    ...p,
    usPerCall: sipp.successful > 0 ? (p.cpuS * 1e6) / sipp.successful : NaN,
    pctLoad: (p.loadCpuS / sipp.wallS) * 100,
    rssMb: p.mem ? p.mem.rssKb / 1024 : NaN,
  }));
  const cpuS = parts.reduce((a, p) => a + p.cpuS, 0);
  const loadCpuS = parts.reduce((a, p) => a + p.loadCpuS, 0);
  // As a share of all CPU time, times the CPU count: on these VMs /proc/stat loses ticks of idle
  // time in absolute terms, but the busy share stays right.
  const boxBusyCores = ((box1.busy - box0.busy) / Math.max(1, box1.total - box0.total)) * os.availableParallelism();
  return {
    target: target.name,
    rate,
    alive,
    sipp,
    cpuS,
    parts,
    cpuUsPerCall: sipp.successful > 0 ? (cpuS * 1e6) / sipp.successful : NaN,
    // The same less what the target burns when idle over the same window (timers, event-loop monitor).
    netCpuUsPerCall: sipp.successful > 0 ? (cpuS * 1e6 - idleUsPerS * windowS) / sipp.successful : NaN,
    windowS,
    // Share of one core while SIPp was sending: near 100 % means the single-threaded target is saturated.
    cpuPctLoad: (loadCpuS / sipp.wallS) * 100,
    sippCpuPct: (sipp.sippCpuS / sipp.wallS) * 100,
    // Everything else on the box (other engineers' work): busy cores minus the target and SIPp.
    otherCores: Math.max(0, boxBusyCores - (Number.isFinite(loadCpuS) ? loadCpuS : 0) / sipp.wallS - (Number.isFinite(sipp.sippCpuS) ? sipp.sippCpuS / sipp.wallS : 0)),
    // Any socket on the box (SIPp's, the target's, or someone else's): a lost INVITE or 486 costs SIPp a 500 ms retransmission.
    udpRcvbufDrops: drops1 - drops0,
    rssMb: mem ? mem.rssKb / 1024 : NaN,
    hwmMb: mem ? mem.hwmKb / 1024 : NaN,
    settleS,
    openAfter,
    daemon: target.httpPort && before && after ? stepDelta(before, after, opts.transport) : undefined,
  };
}
