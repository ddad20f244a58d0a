#!/usr/bin/env node
// `npm run fuzz:sip` (also the second half of `npm run fuzz`): mutation-based SIP fuzzing of a ringproof daemon on loopback (role edge, native
// engine, log event sink). Sends --messages mutated messages in batches, half over UDP and half over
// TCP; after every batch the daemon must still answer OPTIONS and a well-formed INVITE over both. A
// crash or a failed check stops the run and exits 1. Reproducible: the same --seed sends the same
// messages. Loopback only.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { memoryKb, udpRcvbufErrors } from '../bench/lib/proc-stats.mjs';
import { scrape, sum } from '../bench/lib/prom-scrape.mjs';
import { startRingproof } from '../bench/lib/targets.mjs';
import { loadSeeds } from './lib/corpus.mjs';
import { mutate } from './lib/mutate.mjs';
import { probe } from './lib/probe.mjs';
import { createRng } from './lib/rng.mjs';
import { createCounters, openUdp, sendTcp, sendUdp } from './lib/traffic.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = `usage: npm run fuzz:sip -- [--messages N] [--batch N] [--seed N] [--udp-rate N] [--tcp-lanes N] [--json]
  --messages   mutated messages in all (default 1000000), half over UDP, half over TCP
  --batch      messages between two liveness checks (default 10000)
  --seed       PRNG seed (default: random, printed so a run can be repeated)
  --udp-rate   UDP datagrams per second (default 5000; faster only overruns the daemon's receive buffer)
  --tcp-lanes  concurrent TCP connections carrying messages (default 4)
  --json       print the report as one JSON line`;

function parseArgs(argv) {
  const o = { messages: 1_000_000, batch: 10_000, seed: (Math.random() * 2 ** 32) >>> 0, udpRate: 5_000, tcpLanes: 4, json: false };
  const num = (flag, v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} needs a whole number, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') o.json = true;
    else if (a === '--messages') o.messages = num(a, argv[++i]);
    else if (a === '--batch') o.batch = Math.max(1, num(a, argv[++i]));
    else if (a === '--seed') o.seed = num(a, argv[++i]) >>> 0;
    else if (a === '--udp-rate') o.udpRate = Math.max(1, num(a, argv[++i]));
    else if (a === '--tcp-lanes') o.tcpLanes = Math.max(1, num(a, argv[++i]));
    else if (a === '--help' || a === '-h') { process.stdout.write(`${USAGE}\n`); process.exit(0); }
    else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  return o;
}

const log = (msg) => process.stderr.write(`${msg}\n`);

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const target = await startRingproof({ root, engine: 'native' });
  const port = target.sipPort;
  const seeds = loadSeeds({ root, port });
  const all = [...seeds.torture, ...seeds.sipp, ...seeds.carrier];
  const counters = createCounters();
  const report = {
    seed: opts.seed, messages: opts.messages, batch: opts.batch,
    seeds: { rfc4475: seeds.torture.length, sippScenarios: seeds.sipp.length, carrierInvites: seeds.carrier.length },
    sent: 0, udpSent: 0, tcpSent: 0, answered: 0, checks: 0, checkFailures: [], crashes: 0,
    daemon: {}, rssBeforeMb: 0, rssAfterMb: 0, rssPeakMb: 0, seconds: 0,
  };
  const started = Date.now();
  let exitCode = 0;
  try {
    const first = await probe(port);
    if (!first.ok) throw new Error(`the daemon failed the first check: ${first.failures.join('; ')}`);
    report.rssBeforeMb = memoryKb(target.pid).rssKb / 1024;
    const before = await scrape(target.httpPort);
    const rcvbuf0 = udpRcvbufErrors();
    const udp = await openUdp(counters);
    let lastLog = 0;
    for (let b = 0, done = 0; done < opts.messages; b++) {
      const n = Math.min(opts.batch, opts.messages - done);
      // One PRNG per batch and transport, from the seed: a failing batch can be replayed alone.
      const rngU = createRng(opts.seed ^ Math.imul(b + 1, 0x9e3779b1));
      const rngT = createRng(opts.seed ^ Math.imul(b + 1, 0x85ebca77) ^ 0x5bd1e995);
      const udpCount = Math.floor(n / 2);
      await Promise.all([
        sendUdp({ sock: udp, port, count: udpCount, rate: opts.udpRate, next: () => mutate(rngU, all), counters }),
        sendTcp({ port, count: n - udpCount, lanes: opts.tcpLanes, next: () => mutate(rngT, all), rng: rngT, counters }),
      ]);
      done += n;
      report.checks++;
      const check = await probe(port);
      if (!target.alive()) {
        report.crashes++;
        report.checkFailures.push(`batch ${b}: the daemon exited`);
        break;
      }
      if (!check.ok) {
        report.checkFailures.push(`batch ${b}: ${check.failures.join('; ')}`);
        break;
      }
      const mem = memoryKb(target.pid);
      report.rssPeakMb = Math.max(report.rssPeakMb, mem.rssKb / 1024);
      if (Date.now() - lastLog > 5000 || done >= opts.messages) {
        lastLog = Date.now();
        log(`fuzz: ${done.toLocaleString('en')} sent (seed ${opts.seed}), ${counters.answered.toLocaleString('en')} answered, RSS ${(mem.rssKb / 1024).toFixed(0)} MB, ${((Date.now() - started) / 1000).toFixed(0)} s`);
      }
    }
    udp.close();
    const after = await scrape(target.httpPort);
    const d = (name, match) => sum(after, name, match) - sum(before, name, match);
    const drops = {};
    for (const x of after ?? []) {
      if (x.name !== 'ringproof_sip_drops_total') continue;
      const base = (before ?? []).find((y) => y.name === x.name && y.labels.reason === x.labels.reason && y.labels.transport === x.labels.transport)?.value ?? 0;
      if (x.value - base > 0) drops[`${x.labels.reason}/${x.labels.transport}`] = x.value - base;
    }
    report.daemon = {
      requests: d('ringproof_sip_requests_total', {}),
      responses: d('ringproof_sip_responses_total', {}),
      callEvents: d('ringproof_call_events_total', {}),
      drops: d('ringproof_sip_drops_total', {}),
      dropsByReason: drops,
      udpKernelDrops: udpRcvbufErrors() - rcvbuf0,
    };
    report.rssAfterMb = (memoryKb(target.pid)?.rssKb ?? NaN) / 1024;
  } catch (err) {
    report.checkFailures.push(String(err?.message ?? err));
  } finally {
    Object.assign(report, { udpSent: counters.udpSent, tcpSent: counters.tcpSent, sent: counters.udpSent + counters.tcpSent, answered: counters.answered,
      tcp: { connects: counters.tcpConnects, closedByDaemon: counters.tcpClosedByPeer, halfOpen: counters.halfOpen, withGarbage: counters.garbage } });
    report.seconds = (Date.now() - started) / 1000;
    if (!target.alive()) report.crashes = Math.max(report.crashes, 1);
    const tail = report.crashes > 0 || report.checkFailures.length > 0 ? target.output() : '';
    await target.stop();
    if (report.crashes > 0 || report.checkFailures.length > 0) exitCode = 1;
    if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else printReport(report);
    if (tail) log(`--- daemon output (tail) ---\n${tail}`);
  }
  process.exit(exitCode);
}

function printReport(r) {
  const n = (x) => Math.round(x).toLocaleString('en');
  const lines = [
    `SIP fuzz report (seed ${r.seed}; ${r.seeds.rfc4475} RFC 4475 + ${r.seeds.sippScenarios} SIPp + ${r.seeds.carrierInvites} carrier seeds)`,
    `  sent:       ${n(r.sent)} mutated messages (${n(r.udpSent)} UDP, ${n(r.tcpSent)} TCP) in ${r.seconds.toFixed(0)} s`,
    `  TCP:        ${n(r.tcp.connects)} connections, ${n(r.tcp.closedByDaemon)} closed by the daemon, ${n(r.tcp.halfOpen)} half-open, ${n(r.tcp.withGarbage)} with garbage`,
    `  answered:   ${n(r.answered)} responses received`,
    `  daemon:     ${n(r.daemon.requests ?? 0)} requests parsed, ${n(r.daemon.responses ?? 0)} responses sent, ${n(r.daemon.drops ?? 0)} counted drops, ${n(r.daemon.callEvents ?? 0)} call events`,
    `  drops:      ${Object.entries(r.daemon.dropsByReason ?? {}).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${n(v)}`).join(', ') || 'none'}`,
    `  kernel:     ${n(r.daemon.udpKernelDrops ?? 0)} UDP datagrams dropped at a full receive buffer (machine-wide)`,
    `  checks:     ${r.checks} after-batch checks (OPTIONS + INVITE over UDP and TCP), ${r.checkFailures.length} failed${r.checkFailures.length ? `: ${r.checkFailures.join(' | ')}` : ''}`,
    `  crashes:    ${r.crashes}`,
    `  RSS:        ${r.rssBeforeMb.toFixed(0)} MB before, ${r.rssAfterMb.toFixed(0)} MB after (peak between batches ${r.rssPeakMb.toFixed(0)} MB)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err) => {
  log(`fuzz: ${err?.stack ?? err}`);
  process.exit(1);
});
