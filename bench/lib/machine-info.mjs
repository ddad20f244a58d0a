import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

function run(cmd, args, cwd) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 }).trim();
  } catch {
    return undefined;
  }
}

/** What the figures were measured on; read-only look-ups only (git is only asked, never changed). */
export function machineInfo(root) {
  let model = 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) model = m[1].trim();
  } catch {
    /* not Linux */
  }
  // sipp -v exits non-zero (99) after printing its version.
  const sippV = (spawnSync('sipp', ['-v'], { encoding: 'utf8', timeout: 5000 }).stdout ?? '').split('\n').map((l) => l.trim()).find((l) => /SIPp v/i.test(l)) ?? 'unknown';
  let version = 'unknown';
  try {
    version = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')).version;
  } catch {
    /* keep unknown */
  }
  const rev = run('git', ['rev-parse', '--short', 'HEAD'], root);
  const dirty = run('git', ['status', '--porcelain', '--untracked-files=no'], root);
  return {
    nproc: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    model,
    memGb: os.totalmem() / 2 ** 30,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    sipp: sippV,
    ringproof: `${version}${rev ? ` (${rev}${dirty ? ', uncommitted changes' : ''})` : ''}`,
    loadAvg: os.loadavg(),
  };
}
