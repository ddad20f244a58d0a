import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Spawns a child, keeping the tail of its output for error messages. */
function spawnTail(cmd, args, opts) {
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
async function stopChild(child, tail, graceMs) {
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
function cleanEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('RINGPROOF_') || k === 'REDIS_URL') continue;
    env[k] = v;
  }
  return env;
}

/**
 * Starts `node dist/cli/main.js serve` on free loopback ports with the log event sink (no Redis), so
 * the bench measures the SIP edge alone. Resolves once /readyz answers 200.
 */
export async function startRingproof({ root, engine, cpuProfDir }) {
  const sipPort = await freePort();
  const httpPort = await freePort();
  const stateDir = mkdtempSync(join(tmpdir(), 'ringproof-bench-state-'));
  const env = {
    ...cleanEnv(),
    RINGPROOF_SIP_LISTEN: `udp:127.0.0.1:${sipPort},tcp:127.0.0.1:${sipPort}`,
    RINGPROOF_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
    RINGPROOF_EVENT_SINK: 'log',
    RINGPROOF_LOG_LEVEL: 'warn',
    RINGPROOF_SIP_ENGINE: engine,
    RINGPROOF_STATE_DIR: stateDir,
  };
  const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const { child, tail } = spawnTail(process.execPath, [...nodeArgs, join(root, 'dist/cli/main.js'), 'serve'], { cwd: root, env });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (tail.exited) throw new Error(`ringproof exited during start-up (${JSON.stringify(tail.exited)}):\n${tail.out}`);
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort}/readyz`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await stopChild(child, tail, 2000);
      throw new Error(`ringproof not ready within 20 s:\n${tail.out}`);
    }
    await sleep(200);
  }
  return {
    name: 'ringproof',
    label: `ringproof (${engine})`,
    pid: child.pid,
    sipPort,
    httpPort,
    output: () => tail.out,
    alive: () => tail.exited === undefined,
    stop: () => stopChild(child, tail, 20_000),
  };
}

/** Starts bench/reference-responder.mjs on a free loopback port; resolves on its ready line. */
export async function startReference({ root, transport }) {
  const port = await freePort();
  const args = [join(root, 'bench/reference-responder.mjs'), '--host', '127.0.0.1', '--port', String(port)];
  if (transport === 'tcp') args.push('--tcp');
  const { child, tail } = spawnTail(process.execPath, args, { cwd: root, env: cleanEnv() });
  const deadline = Date.now() + 10_000;
  while (!tail.out.includes('"ready":true')) {
    if (tail.exited) throw new Error(`reference responder exited during start-up:\n${tail.out}`);
    if (Date.now() > deadline) {
      await stopChild(child, tail, 2000);
      throw new Error(`reference responder not ready within 10 s:\n${tail.out}`);
    }
    await sleep(50);
  }
  return {
    name: 'reference',
    label: 'reference (minimal stateless Node.js responder)',
    pid: child.pid,
    sipPort: port,
    httpPort: undefined,
    output: () => tail.out,
    alive: () => tail.exited === undefined,
    stop: () => stopChild(child, tail, 5000),
  };
}
