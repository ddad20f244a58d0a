#!/usr/bin/env node
// In-process cost of issue #10's protections per INVITE: the edge's admit() and onInviteAnswered() for
// the same calls with every protection off (flood guard disabled, empty blocklist copy, no detector:
// what `ringproof-abuse-off` runs) and on (flood guard counting the one source, blocklist copy, hammering
// and enumeration detectors writing their automatic entries into that copy: `ringproof-abuse-on`),
// alternating rounds, each charged this process's CPU time. Redis is not involved: automatic entries go
// into the local copy at once (as on the edge) and their store write is a resolved promise.
// Needs `npm run build` first. Usage: node bench/abuse-cost.mjs [calls=200000] [rounds=8] [random|wide|sequential]
//   random: +44 79xx xxxxxx caller IDs (a flood over 10,000 number blocks: the enumeration detector
//     soon blocks them all, then every call is matched against 10,000 prefixes)
//   wide: +44 7xxx xxxxxx (100,000 blocks, more than abuse.enumeration.maxTracked: none is ever
//     flagged, both detectors count every call and churn their maps for good)
//   sequential: the SIP bench's 500 caller IDs (sipp-scenarios/callers.csv: one block, flagged at once)
import { Registry } from 'prom-client';
import { Edge } from '../dist/edge/edge.js';
import { createMetrics } from '../dist/metrics/metrics.js';
import { createLogger } from '../dist/log/logger.js';
import { defaultAbuseConfig } from '../dist/abuse/abuse-defaults.js';
import { FloodGuard } from '../dist/abuse/flood-guard.js';
import { createFloodGuardMetrics } from '../dist/abuse/flood-guard-metrics.js';
import { BlocklistIndex } from '../dist/abuse/blocklist-index.js';
import { createBlocklistMetrics } from '../dist/abuse/blocklist-metrics.js';
import { AutoBlocker } from '../dist/abuse/auto-blocker.js';
import { NO_ABUSE_EVENTS } from '../dist/abuse/abuse-event.js';
import { HammerDetector } from '../dist/abuse/hammer-detector.js';
import { EnumerationDetector } from '../dist/abuse/enumeration-detector.js';

// The detectors' hook as the daemon builds it (src/daemon/edge-abuse.ts); before AnomalyDetectors
// existed, a closure over the enabled detectors (so the bench also times older builds).
const { AnomalyDetectors } = await import('../dist/abuse/anomaly-detectors.js').catch(() => ({}));
function anomalyHook(settings, candidates, blocker, registry) {
  if (AnomalyDetectors) return new AnomalyDetectors({ settings, candidates, blocker, registry });
  const detectors = [
    ...(settings.hammering.enabled ? [new HammerDetector({ config: settings.hammering, candidates, blocker, registry })] : []),
    ...(settings.enumeration.enabled ? [new EnumerationDetector({ config: settings.enumeration, candidates, blocker, registry })] : []),
  ];
  return { observe: (cli, now) => { for (const d of detectors) d.observe(cli, now); } };
}

const calls = Number(process.argv[2] ?? 200_000);
const rounds = Number(process.argv[3] ?? 8);
const shape = process.argv[4] ?? 'random';
if (!['random', 'wide', 'sequential'].includes(shape)) throw new Error('shape: random, wide or sequential');

const logger = createLogger({ level: 'silent' });
const trunk = { name: 'carrier', sources: ['127.0.0.1/32'], defaultCountry: 'GB', rejectCode: 486, cliSources: ['pai', 'from'] };
const source = { address: '127.0.0.1', port: 5060, transport: 'udp' };
const sink = { publish() {} };
// The pre-filter as the detectors see it: PendingNumbers' `synced` reads the clock too.
const loadedAt = Date.now();
const pending = new Set(['+447900000001', '+447900000002']);
const candidates = { has: (cli) => pending.has(cli), get synced() { return Date.now() - loadedAt < 3_600_000; } };

function makeEdge(on) {
  const metrics = createMetrics({ defaults: false });
  const registry = metrics.registry;
  const abuse = defaultAbuseConfig();
  const floodGuard = new FloodGuard({
    config: on ? { ...abuse.floodGuard, trunkMaxRequests: 10_000_000, windowMs: 2000 } : { ...abuse.floodGuard, enabled: false },
    metrics: createFloodGuardMetrics(registry), logger,
  });
  const index = new BlocklistIndex();
  const blocker = new AutoBlocker({
    add: (input) => Promise.resolve({ ...input, createdAt: Date.now(), createdBy: 'auto' }), putLocal: (e) => index.put(e),
    events: NO_ABUSE_EVENTS, logger, registry: new Registry(),
  });
  const settings = on ? abuse : { ...abuse, hammering: { ...abuse.hammering, enabled: false }, enumeration: { ...abuse.enumeration, enabled: false } };
  const anomaly = anomalyHook(settings, candidates, blocker, registry);
  const edge = new Edge({
    config: { trunks: [trunk], sip: { scannerUserAgents: [], unknownSource: 'reject' } },
    metrics, logger, sink, floodGuard,
    blocklist: { source: { current: index }, metrics: createBlocklistMetrics(registry) }, anomaly,
  });
  return { edge, index, floodGuard, metrics };
}

// Calls as the SIP engine hands them over: one source, 3 DIDs, the CLI in From.
const dids = ['+15550100001', '+15550100002', '+15550100003'].map((d) => `sip:${d}@edge.example`);
class Invite {
  source = source;
  callId = '';
  requestUri = '';
  receivedAt = 0;
  from = '';
  headerValues(n) { return n === 'from' ? [this.from] : []; }
  header(n) { return n === 'from' ? this.from : undefined; }
}
const invite = new Invite();
// A random flood's caller IDs: a million, built once (no garbage per round), so a number comes back
// only every 125 s of simulated time: too seldom to hammer, while each block sees ~100 of them.
const POOL = shape === 'sequential' ? 500 : 1 << 20;
const froms = Array.from({ length: POOL }, (_, i) => {
  const cli = shape === 'random' ? `+4479${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`
    : shape === 'wide' ? `+447${String(Math.floor(Math.random() * 1e9)).padStart(9, '0')}`
    : `+4477009${String(i).padStart(5, '0')}`;
  return `<sip:${cli}@carrier.example>;tag=${i}`;
});
const callIds = Array.from({ length: 1 << 16 }, (_, i) => `${i}-${Math.random().toString(36).slice(2)}@192.0.2.1`);

const off = makeEdge(false);
const on = makeEdge(true);

function round(t) {
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  for (let i = 0; i < calls; i++) {
    // 8,000 calls/s of simulated time whatever the machine's speed, so windows and expiries behave as at that rate.
    invite.receivedAt = t.clock + Math.floor(i / 8);
    invite.callId = callIds[i & 0xffff];
    invite.from = froms[(t.calls + i) % POOL];
    invite.requestUri = dids[i % 3];
    const d = t.edge.admit(source, 'INVITE', undefined);
    if (d.kind === 'accept') t.edge.onInviteAnswered(invite, d.trunk, 486);
  }
  const cpu = process.cpuUsage(cpu0);
  t.clock += Math.floor(calls / 8) + (Date.now() - t0);
  t.calls += calls;
  return (cpu.user + cpu.system) / calls;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const state = [
  { name: 'off', ...off, clock: Date.now(), calls: 0, us: [] },
  { name: 'on', ...on, clock: Date.now(), calls: 0, us: [] },
];
// Warm-up (not reported): JIT, and the detectors' and blocklist's steady state.
for (let r = 0; r < 2; r++) for (const t of state) round(t);
for (let r = 0; r < rounds; r++) {
  // Alternate which goes first, so neither is always charged the other's garbage.
  for (const t of r % 2 === 0 ? state : [...state].reverse()) t.us.push(round(t));
}
const [o, n] = state.map((t) => median(t.us));
console.log(`abuse protections per INVITE (admit + onInviteAnswered), ${shape} CLIs, ${calls} calls x ${rounds} rounds:`);
console.log(`  off ${o.toFixed(3)} µs/call (${state[0].us.map((x) => x.toFixed(2)).join(', ')})`);
console.log(`  on  ${n.toFixed(3)} µs/call (${state[1].us.map((x) => x.toFixed(2)).join(', ')})`);
console.log(`  on - off ${(n - o).toFixed(3)} µs/call, on/off ${(n / o).toFixed(3)}x`);
console.log(`  on: blocklist copy ${on.index.size} entries, flood guard ${on.floodGuard.trackedSources} source(s), ${on.floodGuard.bannedSources} banned`);
for (const t of state) t.floodGuard.close();
process.exit(0);
