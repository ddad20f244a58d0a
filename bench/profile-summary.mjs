#!/usr/bin/env node
// Top self-time functions of a V8 .cpuprofile (from `node --cpu-prof`, or `npm run bench -- --cpu-prof DIR`).
// Usage: node bench/profile-summary.mjs <file.cpuprofile> [top=25]
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

const [file, topText] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/profile-summary.mjs <file.cpuprofile> [top]');
  process.exit(1);
}
const top = Number(topText ?? 25);
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const selfUs = new Map();
// samples[i] ran for timeDeltas[i + 1] (the delta to the next sample); the last one is dropped.
for (let i = 0; i < prof.samples.length - 1; i++) {
  const id = prof.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i + 1] ?? 0));
}
const cwd = process.cwd();
const byFn = new Map();
let total = 0;
for (const [id, us] of selfUs) {
  const cf = byId.get(id).callFrame;
  const where = cf.url ? `${relative(cwd, cf.url.replace(/^file:\/\//, ''))}:${cf.lineNumber + 1}` : '';
  const key = `${cf.functionName || '(anonymous)'} ${where}`.trim();
  byFn.set(key, (byFn.get(key) ?? 0) + us);
  total += us;
}
const rows = [...byFn.entries()].sort((a, b) => b[1] - a[1]);
const idle = byFn.get('(idle)') ?? 0;
console.log(`profile ${file}: ${(total / 1e6).toFixed(2)} s sampled, ${(((total - idle) / total) * 100).toFixed(1)} % busy`);
console.log('self ms   self %  (of busy)  function');
for (const [key, us] of rows.slice(0, top)) {
  const busyPct = key === '(idle)' ? '' : `${((us / (total - idle)) * 100).toFixed(1).padStart(5)} %`;
  console.log(`${(us / 1000).toFixed(1).padStart(8)}  ${((us / total) * 100).toFixed(1).padStart(5)} %  ${busyPct.padStart(8)}   ${key}`);
}
