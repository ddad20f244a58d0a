import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, spawnTail, stopChild, waitReady } from './child-process.mjs';
import { freePort } from './free-port.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** drachtio-server expires a transaction T4 (5 s) after the ACK: wait that long so its CPU is charged to the step. */
const DRACHTIO_MIN_SETTLE_S = 5.5;

/**
 * Starts `node dist/command-line/main.js serve` on free loopback ports with the log event sink (no Redis), so
 * the bench measures the SIP edge alone. Resolves once /readyz answers 200.
 * engine 'drachtio': ringproof connects to the drachtio-server `drachtio` = {host, port, secret,
 * sipHost, sipPort, pid} (started by the user), and SIPp is aimed at drachtio-server's SIP port; the
 * target then also carries drachtio-server's pid, so its CPU is counted with ringproof's.
 */
export async function startRingproof({ root, engine, cpuProfDir, drachtio, role = 'edge' }) {
  const sipPort = await freePort();
  const httpPort = await freePort();
  const stateDir = mkdtempSync(join(tmpdir(), 'ringproof-bench-state-'));
  const env = {
    ...cleanEnv(),
    RINGPROOF_SIP_LISTEN: `udp:127.0.0.1:${sipPort},tcp:127.0.0.1:${sipPort}`,
    RINGPROOF_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
    // By default the SIP edge alone, as the README's load-test setup runs it: no Redis, workers or API.
    RINGPROOF_ROLE: role,
    RINGPROOF_EVENT_SINK: 'log',
    RINGPROOF_LOG_LEVEL: 'warn',
    RINGPROOF_SIP_ENGINE: engine,
    RINGPROOF_STATE_DIR: stateDir,
  };
  if (engine === 'drachtio') {
    if (!drachtio) throw new Error('engine drachtio needs --drachtio host:port:secret (or RINGPROOF_BENCH_DRACHTIO)');
    Object.assign(env, {
      RINGPROOF_ROLE: 'edge',
      RINGPROOF_DRACHTIO_HOST: drachtio.host,
      RINGPROOF_DRACHTIO_PORT: String(drachtio.port),
      RINGPROOF_DRACHTIO_SECRET: drachtio.secret,
    });
  }
  const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const { child, tail } = spawnTail(process.execPath, [...nodeArgs, join(root, 'dist/command-line/main.js'), 'serve'], { cwd: root, env });
  // With drachtio, /readyz only turns 200 once the admin connection is up.
  await waitReady({ httpPort, child, tail, what: `ringproof (${engine})`, timeoutMs: 20_000 });
  const viaDrachtio = engine === 'drachtio';
  return {
    name: viaDrachtio ? 'ringproof-drachtio' : 'ringproof',
    engine,
    label: viaDrachtio ? `ringproof (drachtio engine) behind drachtio-server ${drachtio.sipHost}:${drachtio.sipPort}` : `ringproof (${engine})`,
    pid: child.pid,
    // Other processes doing this target's work: their CPU is part of the cost of a call.
    extraPids: viaDrachtio && drachtio.pid ? [{ name: 'drachtio-server', pid: drachtio.pid }] : [],
    sipHost: viaDrachtio ? drachtio.sipHost : '127.0.0.1',
    sipPort: viaDrachtio ? drachtio.sipPort : sipPort,
    httpPort,
    minSettleS: viaDrachtio ? DRACHTIO_MIN_SETTLE_S : 0,
    output: () => tail.out,
    alive: () => tail.exited === undefined,
    stop: async () => {
      await stopChild(child, tail, 20_000);
      rmSync(stateDir, { recursive: true, force: true });
    },
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
    engine: undefined,
    label: 'reference (minimal stateless Node.js responder)',
    pid: child.pid,
    extraPids: [],
    sipHost: '127.0.0.1',
    sipPort: port,
    httpPort: undefined,
    minSettleS: 0,
    output: () => tail.out,
    alive: () => tail.exited === undefined,
    stop: () => stopChild(child, tail, 5000),
  };
}
