#!/usr/bin/env node
// In-process cost of the edge's accounting of a call it decides itself (EdgeAggregate.add: Call-ID
// dedupe, per-minute count, talker and noise sampling), the per-call work a flood of unsolicited calls
// costs the edge beyond the SIP answer. Redis is not involved: the counts stay pending (bounded).
// Needs `npm run build` first. Usage: node bench/edge-aggregate-cost.mjs [adds=400000] [rounds=6]
import { EdgeAggregate } from '../dist/queue/edge-aggregate.js';
import { createLogger } from '../dist/log/logger.js';
import { DEFAULT_AUDIT_SETTINGS } from '../dist/audit/audit-types.js';

const adds = Number(process.argv[2] ?? 400_000);
const rounds = Number(process.argv[3] ?? 6);
// A connection that is never ready: flushes keep the data for later, within the bounds.
const connection = { status: 'end' };
const keys = { aggregateKey: (m) => `agg:${m}`, talkersKey: (h) => `talkers:${h}`, noise: 'noise' };
const aggregate = new EdgeAggregate({ connection, keys, audit: DEFAULT_AUDIT_SETTINGS, logger: createLogger({ level: 'warn' }), flushMs: 1e9 });
// The flood's shape: random caller IDs to one DID on one trunk, every Call-ID new.
const events = Array.from({ length: 50_000 }, (_, i) => ({
  v: 1, trunk: 'carrier', source: { address: '127.0.0.1', port: 5060 }, transport: 'udp', callId: '',
  cli: `+4479${String(i).padStart(8, '0')}`, cliOrigin: 'from', cliRaw: null, did: '+15550100001', didRaw: null,
  verstat: null, trust: 'none', identity: null, userAgent: null, rejectCode: 486, receivedAt: Date.now(),
}));
const perAdd = [];
for (let r = 0; r < rounds; r++) {
  const callIds = Array.from({ length: adds }, (_, i) => `${r}-${i}-${Math.random().toString(36).slice(2)}@192.0.2.1`);
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < adds; i++) {
    const e = events[i % events.length];
    e.callId = callIds[i];
    aggregate.add(e);
  }
  const cpu = process.cpuUsage(cpu0);
  perAdd.push((cpu.user + cpu.system) / adds);
}
const sorted = [...perAdd].sort((a, b) => a - b);
console.log(`EdgeAggregate.add, ${adds} unsolicited calls x ${rounds} rounds: median ${sorted[Math.floor(rounds / 2)].toFixed(2)} µs per call (${perAdd.map((x) => x.toFixed(2)).join(', ')})`);
process.exit(0);
