import { spawn } from 'node:child_process';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Spawns a child, keeping the tail of its output for error messages. */
export function spawnTail(cmd, args, opts) {
  const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail = { out: '', exited: undefined };
  const keep = (c) => {
    tail.out = (tail.out + c.toString()).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.on('exit', (code, signal) => {
    tail.exited = { code, signal };
  });
  return { child, tail };
}

/** SIGTERM, then SIGKILL if the process has not exited in time. */
export async function stopChild(child, tail, graceMs) {
  if (tail.exited) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const ok = await Promise.race([done.then(() => true), sleep(graceMs).then(() => false)]);
  if (!ok) {
    child.kill('SIGKILL');
    await done;
  }
}

/** The daemon's environment: the caller's, minus any ringproof/Redis settings that would change what is measured. */
export function cleanEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('RINGPROOF_') || k === 'REDIS_URL') continue;
    env[k] = v;
  }
  return env;
}

/** Polls GET /readyz until 200; throws with the child's output tail if it exits or the deadline passes. */
export async function waitReady({ httpPort, child, tail, what, timeoutMs }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (tail.exited) throw new Error(`${what} exited during start-up (${JSON.stringify(tail.exited)}):\n${tail.out}`);
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort}/readyz`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await stopChild(child, tail, 2000);
      throw new Error(`${what} not ready within ${timeoutMs / 1000} s:\n${tail.out}`);
    }
    await sleep(200);
  }
}
