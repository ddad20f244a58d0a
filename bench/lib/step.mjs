import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './free-port.mjs';
import { cpuByName, cpuSnapshot, memoryByName, totalCpuS } from './process-cpu.mjs';
import { machineTicks, otherLoadCores, udpRcvbufErrors } from './proc-stats.mjs';
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
  // Every process doing this target's work (ringproof and, behind drachtio, drachtio-server; Kamailio's children).
  const procs = target.procs();
  const cpu0 = cpuSnapshot(procs);
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
  const cpuLoadEnd = cpuSnapshot(procs);
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
  const cpu1 = cpuSnapshot(procs);
  const windowS = (Date.now() - t0) / 1000;
  const mem = memoryByName(procs);

  const alive = cpu1[0].ticks !== undefined && target.alive();
  const load = cpuByName(cpu0, cpuLoadEnd, ticksPerS);
  // Per process name (the target itself first), so the report can show each one's share and the sum:
  // behind drachtio-server, a call costs drachtio-server's CPU too.
  const parts = cpuByName(cpu0, cpu1, ticksPerS).map((p, i) => ({
    name: p.name,
    pid: p.pids[0],
    pids: p.pids,
    cpuS: p.cpuS,
    loadCpuS: load[i].cpuS,
    usPerCall: sipp.successful > 0 ? (p.cpuS * 1e6) / sipp.successful : NaN,
    pctLoad: (load[i].cpuS / sipp.wallS) * 100,
    rssMb: mem.get(p.name)?.rssMb ?? NaN,
    hwmMb: mem.get(p.name)?.hwmMb ?? NaN,
  }));
  const cpuS = totalCpuS(parts);
  const loadCpuS = totalCpuS(load);
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
    otherCores: otherLoadCores(box0, box1, [loadCpuS, sipp.sippCpuS], sipp.wallS),
    // Any socket on the box (SIPp's, the target's, or someone else's): a lost INVITE or 486 costs SIPp a 500 ms retransmission.
    udpRcvbufDrops: drops1 - drops0,
    rssMb: parts[0].rssMb,
    hwmMb: parts[0].hwmMb,
    settleS,
    openAfter,
    daemon: target.httpPort && before && after ? stepDelta(before, after, opts.transport) : undefined,
  };
}
