import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { daemonProcs } from './e2e-daemon.mjs';
import { cleanEnv, spawnTail, stopChild } from './child-process.mjs';
import { startDaemonProcess } from './daemon-process.mjs';
import { freePort } from './free-port.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** drachtio-server expires a transaction T4 (5 s) after the ACK: wait that long so its CPU is charged to the step. */
const DRACHTIO_MIN_SETTLE_S = 5.5;

/**
 * Starts `ringproof serve` on free loopback ports with the log event sink (no Redis), so
 * the bench measures the SIP edge alone. Resolves once /readyz answers 200.
 * engine 'drachtio': ringproof connects to the drachtio-server `drachtio` = {host, port, secret,
 * sipHost, sipPort, pid} (started by the user), and SIPp is aimed at drachtio-server's SIP port; the
 * target then also carries drachtio-server's pid, so its CPU is counted with ringproof's.
 */
export async function startRingproof({ root, engine, cpuProfDir, drachtio, role = 'edge' }) {
  const env = {
    // By default the SIP edge alone, as the README's load-test setup runs it: no Redis, workers or API.
    RINGPROOF_ROLE: role,
    RINGPROOF_EVENT_SINK: 'log',
    RINGPROOF_SIP_ENGINE: engine,
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
  // With drachtio, /readyz only turns 200 once the admin connection is up.
  const d = await startDaemonProcess({ root, env, sip: true, what: `ringproof (${engine})`, cpuProfDir });
  const viaDrachtio = engine === 'drachtio';
  return {
    name: viaDrachtio ? 'ringproof-drachtio' : 'ringproof',
    engine,
    label: viaDrachtio ? `ringproof (drachtio engine) behind drachtio-server ${drachtio.sipHost}:${drachtio.sipPort}` : `ringproof (${engine})`,
    pid: d.pid,
    // Every process doing this target's work: drachtio-server's CPU is part of the cost of a call too.
    procs: () => [{ name: viaDrachtio ? 'ringproof-drachtio' : 'ringproof', pid: d.pid }, ...(viaDrachtio && drachtio.pid ? [{ name: 'drachtio-server', pid: drachtio.pid }] : [])],
    sipHost: viaDrachtio ? drachtio.sipHost : '127.0.0.1',
    sipPort: viaDrachtio ? drachtio.sipPort : d.sipPort,
    httpPort: d.httpPort,
    minSettleS: viaDrachtio ? DRACHTIO_MIN_SETTLE_S : 0,
    output: d.output,
    alive: d.alive,
    stop: d.stop,
  };
}

/**
 * The SIP edge with issue #10's protections all off or all on, for their cost per call at socket level.
 * Both run the edge as users do, with the queue sink, the exact pre-filter deciding the unsolicited
 * calls at the edge and its embedded redis-server (whose CPU is counted with it), so the ratio is
 * what the protections add to that path, not what Redis costs.
 * off: flood guard, hammering and enumeration off (the blocklist copy, always kept with Redis, is
 * checked on every call in both: its cost is in both figures).
 * on: the flood guard counting every source (the loopback trunk given a limit of its own, far above
 * the bench's rates, so it is counted rather than exempt), and the hammering and enumeration
 * detectors told of every call. The bench's sequential CLIs sweep number blocks, so the enumeration
 * detector blocks them as it would a real sweep; blocked calls are still answered.
 */
export async function startRingproofAbuse({ root, on, cpuProfDir }) {
  const dir = mkdtempSync(join(tmpdir(), 'ringproof-bench-abuse-'));
  const file = join(dir, 'abuse.yaml');
  writeFileSync(file, on
    ? 'abuse:\n  floodGuard: { enabled: true, trunkMaxRequests: 10000000, windowMs: 2000 }\n  hammering: { enabled: true }\n  enumeration: { enabled: true }\n'
    : 'abuse:\n  floodGuard: { enabled: false }\n  hammering: { enabled: false }\n  enumeration: { enabled: false }\n');
  const env = { RINGPROOF_ROLE: 'edge', RINGPROOF_EVENT_SINK: 'queue', RINGPROOF_SIP_ENGINE: 'native', RINGPROOF_CONFIG: file };
  const name = on ? 'ringproof-abuse-on' : 'ringproof-abuse-off';
  let d;
  try {
    d = await startDaemonProcess({ root, env, sip: true, what: name, timeoutMs: 40_000, cpuProfDir });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    name,
    engine: 'native',
    label: on ? 'ringproof edge, every protection on (embedded redis-server counted)' : 'ringproof edge, protections off (embedded redis-server counted)',
    pid: d.pid,
    procs: () => daemonProcs(d.pid, name),
    sipHost: '127.0.0.1',
    sipPort: d.sipPort,
    httpPort: d.httpPort,
    minSettleS: 0,
    output: d.output,
    alive: d.alive,
    stop: async () => {
      await d.stop();
      rmSync(dir, { recursive: true, force: true });
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
  return plainSipTarget({ name: 'reference', label: 'reference (minimal stateless Node.js responder)', child, tail, port, stop: () => stopChild(child, tail, 5000) });
}

/**
 * A yardstick target: a SIP server on 127.0.0.1:`port` with no metrics endpoint, run as `child`.
 * `procs` lists every process doing its work (default: the child alone).
 */
export function plainSipTarget({ name, label, child, tail, port, stop, procs = () => [{ name, pid: child.pid }] }) {
  return {
    name,
    engine: undefined,
    label,
    pid: child.pid,
    procs,
    sipHost: '127.0.0.1',
    sipPort: port,
    httpPort: undefined,
    minSettleS: 0,
    output: () => tail.out,
    alive: () => tail.exited === undefined,
    stop,
  };
}
