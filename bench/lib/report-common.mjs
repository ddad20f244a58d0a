// What every bench report shares: number formatting, markdown tables, the command that produced it,
// the machine it ran on, the verdict lines, and where it is written.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** A number with `digits` decimals, '–' when there is none (NaN), '∞' for an infinite one. */
export const f = (v, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : v === Infinity ? '∞' : '–');
/** A whole number with thousands separators. */
export const n = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en') : v === Infinity ? '∞' : '–');
/** Bytes as MB with one decimal. */
export const mb = (bytes) => f(bytes / 2 ** 20, 1);

export function table(head, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The exact command, as a user would type it to reproduce the report. */
export function commandLine(argv) {
  const quote = (a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return `npm run bench${argv.length ? ` -- ${argv.map(quote).join(' ')}` : ''}`;
}

/** The "## Machine" section's lines. */
export function machineLines(info, extra = []) {
  return [
    `- ${info.nproc} CPUs, ${info.model}, ${f(info.memGb)} GiB, ${info.kernel}`,
    `- node ${info.node}, ${info.sipp}, ringproof ${info.ringproof}`,
    ...extra.map((e) => `- ${e}`),
    `- load average at start ${info.loadAvg.map((x) => x.toFixed(2)).join(' / ')}`,
  ];
}

export const verdictLines = (list) => list.map((v) => `- **${v.status}** — ${v.name}: ${v.detail}`);

/** Writes the report to --out or bench/reports/<prefix>-<start time>.md, prints it, and returns the path (relative when shorter). */
export function publishReport({ root, opts, prefix, startedAt, md }) {
  const stamp = startedAt.toISOString().replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
  const outPath = resolve(opts.out ?? join(root, 'bench/reports', `${prefix}-${stamp}.md`));
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, md);
  console.log(md);
  return relative(process.cwd(), outPath) || outPath;
}
