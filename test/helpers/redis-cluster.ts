/**
 * Distributed Redis on loopback for the scale-out tests: a Redis Cluster (3 masters, 1 replica each)
 * and a Sentinel group (master, replica, 3 sentinels). Real redis-server processes, free ports, temp
 * dirs; every wait is bounded. Failover timeouts are short (about a second to detect a dead master)
 * so that a test's failover takes seconds, not the production defaults' tens of seconds.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';
import { waitForPort } from './redis-server.js';
import { waitUntil as waitFor } from './verify-e2e.js';

/** One redis-server (data node or sentinel) the helpers started. */
export interface RedisNode {
  readonly port: number;
  readonly dir: string;
  process: ChildProcess;
  /** True until the process exited. */
  alive(): boolean;
  /** SIGKILL (a crash) or SIGTERM; resolves once it exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** A short-lived admin client (no retries): the caller disconnects it. */
  admin(): Redis;
}

async function launchNode(args: string[], port: number, dir: string, label: string): Promise<RedisNode> {
  const child = spawn('redis-server', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-2000); });
  let exited = false;
  const exit = new Promise<void>((res) => child.once('exit', () => { exited = true; res(); }));
  child.once('error', () => undefined);
  try {
    await waitForPort(port, 15_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${label} on ${port} did not start: ${(err as Error).message} ${stderr}`);
  }
  return {
    port,
    dir,
    process: child,
    alive: () => !exited,
    async kill(signal = 'SIGKILL') {
      if (exited) return;
      child.kill(signal);
      await exit;
    },
    admin: () => new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: false }),
  };
}

/** Runs one command on a node and returns the reply; the client is closed afterwards. */
export async function nodeCommand(node: RedisNode, ...args: Array<string | number>): Promise<unknown> {
  const c = node.admin();
  c.on('error', () => undefined);
  try {
    return await c.call(String(args[0]), ...args.slice(1).map(String));
  } finally {
    c.disconnect();
  }
}

/** `INFO replication` as a map. */
async function replicationInfo(node: RedisNode): Promise<Map<string, string>> {
  const text = String(await nodeCommand(node, 'INFO', 'replication'));
  return new Map(text.split(/\r?\n/).filter((l) => l.includes(':')).map((l) => {
    const i = l.indexOf(':');
    return [l.slice(0, i), l.slice(i + 1)] as [string, string];
  }));
}

// ---------------------------------------------------------------------------------------------------
// Redis Cluster

export interface ClusterNodeInfo {
  node: RedisNode;
  id: string;
  role: 'master' | 'replica';
  /** The master's id, for a replica. */
  masterId?: string;
}

export interface TestRedisCluster {
  /** redis-cluster://127.0.0.1:p1,…  (every node as a startup node). */
  readonly url: string;
  readonly nodes: readonly RedisNode[];
  /** The master currently serving the slot of `key` (asks a live node). */
  masterFor(key: string): Promise<ClusterNodeInfo>;
  /** Every live node's view, by node id. */
  topology(): Promise<ClusterNodeInfo[]>;
  /** Resolves when a replica has taken over `slotOf(key)` from `oldMaster` and every live node agrees the cluster is ok. */
  waitFailover(key: string, oldMasterPort: number, timeoutMs?: number): Promise<ClusterNodeInfo>;
  stop(): Promise<void>;
}

/**
 * Six cluster-enabled redis-servers (3 masters, 3 replicas) made into one cluster with
 * `redis-cli --cluster create … --cluster-replicas 1 --cluster-yes`. `nodeTimeoutMs` is
 * cluster-node-timeout: how long a master may be unreachable before it is failed over.
 */
export async function startTestRedisCluster(opts: { nodeTimeoutMs?: number } = {}): Promise<TestRedisCluster> {
  const nodeTimeout = opts.nodeTimeoutMs ?? 1000;
  const root = mkdtempSync(join(tmpdir(), 'rp-cluster-'));
  const nodes: RedisNode[] = [];
  try {
    for (let i = 0; i < 6; i++) {
      const dir = join(root, `n${i}`);
      mkdirSync(dir);
      const [port, busPort] = await distinctFreePorts(2, nodes.map((n) => n.port)) as [number, number];
      nodes.push(await launchNode([
        '--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1',
        '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'),
        '--cluster-node-timeout', String(nodeTimeout),
        '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning',
        '--protected-mode', 'yes',
      ], port, dir, 'cluster node'));
    }
    const create = spawnSync('redis-cli', [
      '--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes',
    ], { encoding: 'utf8', timeout: 60_000 });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed (${create.status}): ${create.stdout} ${create.stderr}`);
    // Every node sees every slot covered and every replica attached to its master.
    await waitFor('cluster_state:ok on every node with 3 masters and 3 replicas', async () => {
      for (const n of nodes) {
        const info = String(await nodeCommand(n, 'CLUSTER', 'INFO'));
        if (!info.includes('cluster_state:ok')) return undefined;
      }
      const topo = await topologyOf(nodes);
      const replicasLinked = await Promise.all(topo.filter((t) => t.role === 'replica').map(async (t) =>
        (await replicationInfo(t.node)).get('master_link_status') === 'up'));
      return topo.filter((t) => t.role === 'master').length === 3 && replicasLinked.length === 3 && replicasLinked.every(Boolean) ? true : undefined;
    }, 30_000);
  } catch (err) {
    await Promise.all(nodes.map((n) => n.kill()));
    rmSync(root, { recursive: true, force: true });
    throw err;
  }

  const masterFor = async (key: string): Promise<ClusterNodeInfo> => {
    const live = nodes.find((n) => n.alive()) as RedisNode;
    const slot = Number(await nodeCommand(live, 'CLUSTER', 'KEYSLOT', key));
    const slots = await nodeCommand(live, 'CLUSTER', 'SLOTS') as Array<[number, number, [string, number, string], ...unknown[]]>;
    const range = slots.find(([from, to]) => slot >= from && slot <= to);
    if (!range) throw new Error(`no node serves slot ${slot}`);
    const port = Number(range[2][1]);
    const topo = await topologyOf(nodes);
    const m = topo.find((t) => t.node.port === port);
    if (!m) throw new Error(`slot ${slot} is served by unknown port ${port}`);
    return m;
  };

  return {
    url: `redis-cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`,
    nodes,
    masterFor,
    topology: () => topologyOf(nodes),
    async waitFailover(key, oldMasterPort, timeoutMs = 30_000) {
      return waitFor(`a replica to take over the slot of ${key} from :${oldMasterPort}`, async () => {
        const m = await masterFor(key);
        if (m.node.port === oldMasterPort || !m.node.alive()) return undefined;
        for (const n of nodes.filter((x) => x.alive())) {
          if (!String(await nodeCommand(n, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) return undefined;
        }
        return m;
      }, timeoutMs);
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.kill()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Roles as a live node reports them in CLUSTER NODES (dead nodes are marked fail and skipped). */
async function topologyOf(nodes: readonly RedisNode[]): Promise<ClusterNodeInfo[]> {
  const live = nodes.find((n) => n.alive());
  if (!live) throw new Error('no live cluster node');
  const text = String(await nodeCommand(live, 'CLUSTER', 'NODES'));
  const out: ClusterNodeInfo[] = [];
  for (const line of text.split('\n').filter((l) => l.trim() !== '')) {
    const [id, addr, flags, masterId] = line.split(' ') as [string, string, string, string];
    if (flags.includes('fail') && !flags.includes('fail?')) continue;
    const port = Number(addr.split('@')[0]?.split(':')[1]);
    const node = nodes.find((n) => n.port === port);
    if (!node || !node.alive()) continue;
    const role = flags.includes('master') ? 'master' : 'replica';
    out.push({ node, id, role, ...(role === 'replica' ? { masterId } : {}) });
  }
  return out;
}

async function distinctFreePorts(n: number, taken: readonly number[]): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) {
    const p = await freePort();
    if (!out.includes(p) && !taken.includes(p)) out.push(p);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Sentinel

export const SENTINEL_MASTER_NAME = 'rpmaster';

export interface TestRedisSentinel {
  /** redis-sentinel://127.0.0.1:s1,127.0.0.1:s2,127.0.0.1:s3/rpmaster */
  readonly url: string;
  /** The two data nodes (first started as master, second as its replica). */
  readonly data: readonly RedisNode[];
  readonly sentinels: readonly RedisNode[];
  /** The data node every live sentinel names as master now (undefined while they disagree). */
  currentMaster(): Promise<RedisNode | undefined>;
  /**
   * A planned switchover that loses no write (docs/topology.md): CLIENT PAUSE WRITE on the master,
   * wait until the replica has every write, SENTINEL FAILOVER, and once the sentinels name the
   * replica: REPLICAOF it on the old master, CLIENT KILL TYPE normal there (clients ask the sentinels
   * again) and CLIENT UNPAUSE. SENTINEL FAILOVER alone promotes the replica while the old master goes
   * on taking writes until the sentinels demote it (10 s or more later), and those writes are lost.
   * Resolves with the new master.
   */
  switchover(timeoutMs?: number): Promise<RedisNode>;
  /**
   * Resolves once every live sentinel names a live data node other than `oldMasterPort` as master,
   * and that node reports role:master.
   */
  waitNewMaster(oldMasterPort: number, timeoutMs?: number): Promise<RedisNode>;
  stop(): Promise<void>;
}

/**
 * A master, one replica and three sentinels (quorum 2). `downAfterMs` is how long the master may be
 * silent before the sentinels fail it over.
 */
export async function startTestRedisSentinel(opts: { downAfterMs?: number } = {}): Promise<TestRedisSentinel> {
  const downAfter = opts.downAfterMs ?? 1000;
  const root = mkdtempSync(join(tmpdir(), 'rp-sentinel-'));
  const started: RedisNode[] = [];
  try {
    const [mPort, rPort, ...sPorts] = await distinctFreePorts(5, []) as [number, number, number, number, number];
    const dataArgs = (port: number, dir: string): string[] => [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
      '--daemonize', 'no', '--loglevel', 'warning', '--protected-mode', 'yes',
    ];
    const mDir = join(root, 'master');
    const rDir = join(root, 'replica');
    mkdirSync(mDir);
    mkdirSync(rDir);
    const master = await launchNode(dataArgs(mPort, mDir), mPort, mDir, 'sentinel master');
    started.push(master);
    const replica = await launchNode([...dataArgs(rPort, rDir), '--replicaof', '127.0.0.1', String(mPort)], rPort, rDir, 'sentinel replica');
    started.push(replica);
    await waitFor('the replica in sync', async () =>
      ((await replicationInfo(replica)).get('master_link_status') === 'up' ? true : undefined), 15_000);
    const sentinels: RedisNode[] = [];
    for (const [i, port] of sPorts.entries()) {
      const dir = join(root, `s${i}`);
      mkdirSync(dir);
      const conf = join(dir, 'sentinel.conf');
      // Sentinel rewrites its config file as the group changes, so each gets its own writable copy.
      writeFileSync(conf, [
        `port ${port}`,
        'bind 127.0.0.1',
        'protected-mode no',
        `dir ${dir}`,
        `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${mPort} 2`,
        `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} ${downAfter}`,
        `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 10000`,
        `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1`,
        '',
      ].join('\n'));
      const s = await launchNode([conf, '--sentinel', '--loglevel', 'warning'], port, dir, 'sentinel');
      started.push(s);
      sentinels.push(s);
    }
    const data = [master, replica];
    const handle: TestRedisSentinel = {
      url: `redis-sentinel://${sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/${SENTINEL_MASTER_NAME}`,
      data,
      sentinels,
      async currentMaster() {
        const ports = new Set<number>();
        for (const s of sentinels.filter((x) => x.alive())) {
          const r = await nodeCommand(s, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER_NAME) as [string, string] | null;
          if (!r) return undefined;
          ports.add(Number(r[1]));
        }
        if (ports.size !== 1) return undefined;
        return data.find((d) => d.port === [...ports][0]);
      },
      async switchover(timeoutMs = 30_000) {
        const old = await handle.currentMaster();
        if (!old) throw new Error('the sentinels do not agree on a master');
        await nodeCommand(old, 'CLIENT', 'PAUSE', timeoutMs, 'WRITE');
        try {
          await waitFor('the replica to have every write of the paused master', async () => {
            const offset = (await replicationInfo(old)).get('master_repl_offset');
            const others = data.filter((d) => d !== old && d.alive());
            const synced = await Promise.all(others.map(async (d) => (await replicationInfo(d)).get('slave_repl_offset') === offset));
            return synced.every(Boolean) ? true : undefined;
          }, timeoutMs);
          await nodeCommand(sentinels[0] as RedisNode, 'SENTINEL', 'FAILOVER', SENTINEL_MASTER_NAME);
          const now = await handle.waitNewMaster(old.port, timeoutMs);
          // What the sentinels would do about 10 s later, done at once: the old master follows the new
          // one, and its clients are dropped so that they ask the sentinels again.
          await nodeCommand(old, 'REPLICAOF', '127.0.0.1', now.port);
          await nodeCommand(old, 'CLIENT', 'KILL', 'TYPE', 'normal');
          return now;
        } finally {
          await nodeCommand(old, 'CLIENT', 'UNPAUSE');
        }
      },
      async waitNewMaster(oldMasterPort, timeoutMs = 30_000) {
        return waitFor(`the sentinels to promote a new master (old :${oldMasterPort})`, async () => {
          const m = await handle.currentMaster();
          if (!m || m.port === oldMasterPort || !m.alive()) return undefined;
          return (await replicationInfo(m)).get('role') === 'master' ? m : undefined;
        }, timeoutMs);
      },
      async stop() {
        await Promise.all(started.map((n) => n.kill()));
        rmSync(root, { recursive: true, force: true });
      },
    };
    // Each sentinel has found the replica and the other sentinels (needed for a failover vote).
    await waitFor('3 sentinels that know the replica and each other', async () => {
      for (const s of sentinels) {
        const m = await nodeCommand(s, 'SENTINEL', 'MASTER', SENTINEL_MASTER_NAME) as string[];
        const f = new Map<string, string>();
        for (let i = 0; i + 1 < m.length; i += 2) f.set(m[i] as string, m[i + 1] as string);
        if (f.get('num-slaves') !== '1' || f.get('num-other-sentinels') !== '2') return undefined;
      }
      return true;
    }, 30_000);
    return handle;
  } catch (err) {
    await Promise.all(started.map((n) => n.kill()));
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}
