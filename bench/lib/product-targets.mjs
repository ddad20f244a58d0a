// ringproof as users run it, for the product, flood-memory and soak modes. Layout "all": one
// `ringproof serve` in role all with its embedded redis-server (no REDIS_URL), the README's default.
// Layout "thread": the same with pipeline.workerThread (its workers in a worker thread of that process).
// Layout "split": a redis-server the bench starts, then an edge, `workers` worker processes and an API
// process on it, each its own `ringproof serve`. Either way every process's CPU counts.
import { benchDaemonEnv, daemonProcs, startE2eDaemon } from './e2e-daemon.mjs';
import { startDaemonProcess } from './daemon-process.mjs';
import { startRedisServer } from './redis-server.mjs';
import { LAYOUTS } from './args.mjs';

/** Starts one layout; the target it returns is what product-step.mjs and the other modes drive. */
export async function startProductTarget({ root, layout, webhookUrl, secret, dids, workers = 1, redisFsync = 'always', cpuProfDir }) {
  if (layout === 'all' || layout === 'thread') {
    const thread = layout === 'thread';
    const d = await startE2eDaemon({ root, webhookUrl, secret, dids, cpuProfDir, env: thread ? { RINGPROOF_PIPELINE_WORKER_THREAD: 'true' } : {} });
    return {
      name: thread ? 'ringproof-thread' : 'ringproof-all',
      layout,
      label: thread
        ? 'ringproof role all, workers in a worker thread (pipeline.workerThread; one process, embedded redis-server)'
        : 'ringproof role all (one process, embedded redis-server)',
      procs: d.procs,
      pid: d.pid,
      sipHost: '127.0.0.1',
      sipPort: d.sipPort,
      apiPort: d.httpPort,
      httpPorts: [d.httpPort],
      redisAddr: d.redisAddr,
      output: d.output,
      alive: d.alive,
      stop: d.stop,
    };
  }
  if (layout !== 'split') throw new Error(`unknown layout "${layout}" (known: ${LAYOUTS.join(', ')})`);
  const redis = await startRedisServer({ appendfsync: redisFsync });
  const common = { RINGPROOF_REDIS_URL: redis.url, ...benchDaemonEnv({ webhookUrl, secret, dids }) };
  const parts = [];
  const stopAll = async () => {
    for (const p of [...parts].reverse()) await p.proc.stop();
    await redis.stop();
  };
  try {
    const start = async (role, name, sip = false) => {
      const proc = await startDaemonProcess({ root, env: { ...common, RINGPROOF_ROLE: role }, sip, what: `ringproof (role ${role})`, timeoutMs: 30_000, cpuProfDir });
      parts.push({ name, proc });
      return proc;
    };
    // Consumers first, so the edge's first events find their workers up.
    for (let i = 0; i < workers; i++) await start('worker', workers > 1 ? `worker-${i + 1}` : 'worker');
    const api = await start('api', 'api');
    const edge = await start('edge', 'edge', true);
    return {
      name: 'ringproof-split',
      layout,
      label: `ringproof split roles (edge + ${workers} worker${workers > 1 ? 's' : ''} + api, separate processes, on a redis-server started by the bench with appendfsync ${redisFsync})`,
      procs: () => [...parts.flatMap((p) => daemonProcs(p.proc.pid, p.name)), { name: 'redis-server', pid: redis.pid }],
      pid: edge.pid,
      sipHost: '127.0.0.1',
      sipPort: edge.sipPort,
      apiPort: api.httpPort,
      // The edge first: its SIP and spool metrics; the queue gauges come from whichever process reports them.
      httpPorts: [edge.httpPort, ...parts.filter((p) => p.proc !== edge).map((p) => p.proc.httpPort)],
      redisAddr: redis.addr,
      output: () => parts.map((p) => `[${p.name}] ${p.proc.output()}`).join('\n') + `\n[redis-server] ${redis.output()}`,
      alive: () => redis.alive() && parts.every((p) => p.proc.alive()),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
