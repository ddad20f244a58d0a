#!/usr/bin/env node
// In-process timing of the per-message JavaScript alone, no sockets: SIPp-shaped INVITE + ACK pairs
// fed to ringproof's UAS core (with the edge and the log sink, as `npm run bench` runs it) and to the
// reference responder's handler. Shows how much of a call's CPU is ringproof's own code, which the
// socket-level bench cannot separate from the kernel and libuv. Needs `npm run build` first.
// Usage: node bench/hot-path.mjs [calls=200000] [rounds=3] [--abuse]
// --abuse adds a third target: the edge with every abuse protection busy on every call (the flood
// guard counting the trunk's requests, a blocklist of 1,000 numbers, 1,000 prefixes of four lengths
// and 100 caller names, and the hammering detector counting every caller), to set against ringproof.
import { createMetrics } from '../dist/metrics/metrics.js';
import { SipCounters } from '../dist/metrics/sip-counters.js';
import { UasCore } from '../dist/sip/uas/index.js';
import { keepStringPrototypeFast } from '../dist/v8/fast-string-prototype.js';
import { Edge } from '../dist/edge/edge.js';
import { LogSink } from '../dist/edge/log-sink.js';
import { createLogger } from '../dist/log/logger.js';
import { defaultConfig } from '../dist/config/defaults.js';
import { FloodGuard, createFloodGuardMetrics } from '../dist/abuse/index.js';
import { BlocklistIndex } from '../dist/abuse/blocklist-index.js';
import { createBlocklistMetrics } from '../dist/abuse/blocklist-metrics.js';
import { HammerDetector } from '../dist/abuse/hammer-detector.js';
import { NO_ABUSE_EVENTS } from '../dist/abuse/abuse-event.js';
import { rejectDatagram } from './reference-reject.mjs';

// Start-up, as the daemon does it (see src/v8/fast-string-prototype.ts).
keepStringPrototypeFast();

const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const withAbuse = process.argv.includes('--abuse');
const calls = Number(positional[0] ?? 200_000);
const rounds = Number(positional[1] ?? 3);
const WARM = 20_000;

const LOCAL = 25191;
const REMOTE = 15181;
const SDP = 'v=0\r\no=- 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n';

/** The INVITE and ACK of sipp-scenarios/uac-reject.xml for call n (500 callers, 3 DIDs, as callers.csv). */
function pair(n) {
  const cli = `+4477009${String(n % 500).padStart(5, '0')}`;
  const did = `+1555010000${1 + (n % 3)}`;
  const common = `Via: SIP/2.0/UDP 127.0.0.1:${LOCAL};branch=z9hG4bK-${n}-1-0;rport\r\nMax-Forwards: 70\r\n` +
    `From: <sip:${cli}@127.0.0.1:${LOCAL};user=phone>;tag=1SIPpTag00${n}\r\n`;
  const invite = `INVITE sip:${did}@127.0.0.1:${REMOTE};user=phone SIP/2.0\r\n${common}` +
    `To: <sip:${did}@127.0.0.1:${REMOTE};user=phone>\r\nCall-ID: ${n}-1@127.0.0.1\r\nCSeq: 1 INVITE\r\n` +
    `Contact: <sip:${cli}@127.0.0.1:${LOCAL};transport=UDP>\r\nUser-Agent: ringproof-sipp-load\r\n` +
    `Content-Type: application/sdp\r\nContent-Length: ${SDP.length}\r\n\r\n${SDP}`;
  const ack = `ACK sip:${did}@127.0.0.1:${REMOTE};user=phone SIP/2.0\r\n${common}` +
    `To: <sip:${did}@127.0.0.1:${REMOTE};user=phone>;tag=0123456789abcdef\r\nCall-ID: ${n}-1@127.0.0.1\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n`;
  return [Buffer.from(invite, 'latin1'), Buffer.from(ack, 'latin1')];
}

/** Every abuse protection of the edge, busy on every call of the bench (nothing matches, nothing is banned). */
function abuseOptions(metrics, logger) {
  const floodGuard = new FloodGuard({
    config: { enabled: true, windowMs: 2000, maxRequests: 30, banSeconds: 120, trunkMaxRequests: 1e9, maxSources: 100_000 },
    metrics: createFloodGuardMetrics(metrics.registry), logger,
  });
  const entries = [];
  const entry = (kind, value) => ({ kind, value, reason: 'bench', expiresAt: null, createdAt: 0, createdBy: 'bench' });
  for (let i = 0; i < 1000; i++) entries.push(entry('number', `+1202555${String(i).padStart(4, '0')}`));
  for (let i = 0; i < 1000; i++) entries.push(entry('prefix', `+${[1, 33, 4420, 861][i % 4]}${String(i).padStart(4, '0')}`));
  for (let i = 0; i < 100; i++) entries.push(entry('name', `Spam Caller ${i}`));
  const blocklist = { source: { current: new BlocklistIndex(entries) }, metrics: createBlocklistMetrics(metrics.registry) };
  const hammer = new HammerDetector({
    config: { enabled: true, maxCalls: 1e9, windowSeconds: 60, blockSeconds: 3600, maxTracked: 10_000 },
    candidates: { has: () => false, synced: true },
    add: async () => { throw new Error('no block in the bench'); }, putLocal: () => {}, events: NO_ABUSE_EVENTS, logger, registry: metrics.registry,
  });
  const only = (process.env.ABUSE_ONLY ?? "floodGuard,blocklist,hammer").split(",");
  return { ...(only.includes("floodGuard") ? { floodGuard } : {}), ...(only.includes("blocklist") ? { blocklist } : {}), ...(only.includes("hammer") ? { hammer } : {}), stop: () => floodGuard.close() };
}

function ringproof(abuse = false) {
  const cfg = defaultConfig();
  const metrics = createMetrics({ defaults: false });
  const logger = createLogger({ level: 'warn' });
  const core = new UasCore(cfg.sip, new SipCounters(metrics), logger);
  const extra = abuse ? abuseOptions(metrics, logger) : undefined;
  core.start(new Edge({ config: { trunks: cfg.trunks, sip: cfg.sip }, metrics, logger, sink: new LogSink(logger), ...(extra ?? {}) }));
  const reply = { transport: 'udp', send: () => true };
  return {
    name: abuse ? 'abuse' : 'ringproof',
    handle: (datagram) => core.handle(datagram, reply, '127.0.0.1', LOCAL),
    stop: () => { core.stop(); extra?.stop(); },
  };
}

function reference() {
  // As the responder does: the 486 text, handed to dgram, which encodes it.
  return { name: 'reference', handle: (datagram) => { const r = rejectDatagram(datagram); if (r !== null) Buffer.from(r); }, stop: () => {} };
}

function run(target, datagrams) {
  for (let i = 0; i < WARM * 2; i++) target.handle(datagrams[i]);
  const cpu0 = process.cpuUsage();
  for (let i = WARM * 2; i < datagrams.length; i++) target.handle(datagrams[i]);
  const cpu = process.cpuUsage(cpu0);
  target.stop();
  return ((cpu.user + cpu.system) * 1000) / (datagrams.length / 2 - WARM);
}

const results = { ringproof: [], reference: [], abuse: [] };
for (let r = 0; r < rounds; r++) {
  for (const make of withAbuse ? [reference, ringproof, () => ringproof(true)] : [reference, ringproof]) {
    // Fresh messages each round (new Call-IDs): no state carried over.
    const datagrams = [];
    for (let n = 0; n < calls + WARM; n++) datagrams.push(...pair(r * 10_000_000 + n));
    const target = make();
    results[target.name].push(run(target, datagrams));
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rp = median(results.ringproof);
const ref = median(results.reference);
console.log(`per call (INVITE + ACK), JavaScript only, median of ${rounds} rounds of ${calls} calls:`);
console.log(`  ringproof  ${(rp / 1000).toFixed(2)} µs  (${results.ringproof.map((x) => (x / 1000).toFixed(2)).join(', ')})`);
console.log(`  reference  ${(ref / 1000).toFixed(2)} µs  (${results.reference.map((x) => (x / 1000).toFixed(2)).join(', ')})`);
console.log(`  ratio      ${(rp / ref).toFixed(2)}x`);
if (withAbuse) {
  const ab = median(results.abuse);
  console.log(`  ringproof, every abuse protection busy  ${(ab / 1000).toFixed(2)} µs  (${results.abuse.map((x) => (x / 1000).toFixed(2)).join(', ')}): ${(((ab - rp) / rp) * 100).toFixed(1)} % over ringproof`);
}
