#!/usr/bin/env node
// In-process timing of the per-message JavaScript alone, no sockets: SIPp-shaped INVITE + ACK pairs
// fed to ringproof's UAS core (with the edge and the log sink, as `npm run bench` runs it) and to the
// reference responder's handler. Shows how much of a call's CPU is ringproof's own code, which the
// socket-level bench cannot separate from the kernel and libuv. Needs `npm run build` first.
// Usage: node bench/hot-path.mjs [calls=200000] [rounds=3]
import { createMetrics } from '../dist/metrics/metrics.js';
import { SipCounters } from '../dist/metrics/sip-counters.js';
import { UasCore } from '../dist/sip/uas/index.js';
import { keepStringPrototypeFast } from '../dist/v8/fast-string-prototype.js';
import { Edge } from '../dist/edge/edge.js';
import { LogSink } from '../dist/edge/log-sink.js';
import { createLogger } from '../dist/log/logger.js';
import { defaultConfig } from '../dist/config/defaults.js';
import { rejectDatagram } from './reference-reject.mjs';

// Start-up, as the daemon does it (see src/v8/fast-string-prototype.ts).
keepStringPrototypeFast();

const calls = Number(process.argv[2] ?? 200_000);
const rounds = Number(process.argv[3] ?? 3);
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

function ringproof() {
  const cfg = defaultConfig();
  const metrics = createMetrics({ defaults: false });
  const logger = createLogger({ level: 'warn' });
  const core = new UasCore(cfg.sip, new SipCounters(metrics), logger);
  core.start(new Edge({ config: { trunks: cfg.trunks, sip: cfg.sip }, metrics, logger, sink: new LogSink(logger) }));
  const reply = { transport: 'udp', send: () => true };
  return {
    name: 'ringproof',
    handle: (datagram) => core.handle(datagram, reply, '127.0.0.1', LOCAL),
    stop: () => core.stop(),
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

const results = { ringproof: [], reference: [] };
for (let r = 0; r < rounds; r++) {
  for (const make of [reference, ringproof]) {
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
