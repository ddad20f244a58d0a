// The Kamailio yardstick: Debian's `kamailio` running bench/kamailio-reject.cfg (stateless 486, ACK
// absorbed) on a free loopback port, measured like any other target with all its forked processes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, spawnTail, stopChild } from './child-process.mjs';
import { freePort } from './free-port.mjs';
import { processTree } from './proc-stats.mjs';
import { createUac } from './sip-uac.mjs';
import { plainSipTarget } from './targets.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const KAMAILIO_CHILDREN = 4;
export const KAMAILIO_ALLOCATOR = 'tlsf';

/** `kamailio -v`'s first line, or undefined when kamailio is not installed (the report then says N/A). */
export function kamailioVersion(bin = 'kamailio') {
  const r = spawnSync(bin, ['-v'], { encoding: 'utf8', timeout: 5000 });
  if (r.error || r.status !== 0) return undefined;
  return (r.stdout.split('\n').find((l) => /^version:/i.test(l)) ?? r.stdout.split('\n')[0]).replace(/^version:\s*(kamailio\s*)?/i, '').trim();
}

/**
 * Starts kamailio with bench/kamailio-reject.cfg on 127.0.0.1 (UDP, plus TCP for --transport tcp);
 * resolves once it answers an INVITE with 486. Its CPU is that of its whole process tree.
 */
export async function startKamailio({ root, transport, bin = 'kamailio', children = KAMAILIO_CHILDREN, allocator = KAMAILIO_ALLOCATOR }) {
  const port = await freePort();
  const runDir = mkdtempSync(join(tmpdir(), 'ringproof-bench-kamailio-'));
  const args = [
    '-f', join(root, 'bench/kamailio-reject.cfg'),
    '-DD', '-E',
    '-x', allocator,
    '-m', '64', '-M', '8',
    '-Y', runDir,
    '-A', `CHILDREN=${children}`,
    '-l', `udp:127.0.0.1:${port}`,
    ...(transport === 'tcp' ? ['-l', `tcp:127.0.0.1:${port}`, '-A', 'WITH_TCP'] : []),
  ];
  const { child, tail } = spawnTail(bin, args, { cwd: runDir, env: cleanEnv() });
  const stop = async () => {
    await stopChild(child, tail, 5000);
    rmSync(runDir, { recursive: true, force: true });
  };
  const uac = await createUac();
  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (tail.exited) throw new Error(`kamailio exited during start-up (${JSON.stringify(tail.exited)}):\n${tail.out}`);
      const r = await uac.call({ cli: '+447911000001', did: '+15550100001', targetPort: port, timeoutMs: 1000 });
      if (r.status === 486) break;
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`kamailio did not answer an INVITE with 486 within 10 s (last status ${r.status}):\n${tail.out}`);
      }
      await sleep(200);
    }
  } finally {
    await uac.close();
  }
  return plainSipTarget({
    name: 'kamailio',
    label: `Kamailio ${kamailioVersion(bin) ?? '?'} stateless reject (bench/kamailio-reject.cfg, ${children} UDP children, ${allocator} allocator)`,
    child,
    tail,
    port,
    stop,
    // The main process and every child it forked (UDP receivers, timers): all of them serve the calls.
    procs: () => processTree(child.pid).map((p) => ({ name: 'kamailio', pid: p.pid })),
  });
}
