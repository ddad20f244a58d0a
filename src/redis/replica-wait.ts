import type { RedisConfig } from '../config/config-types.js';
import type { Logger } from '../log/logger.js';
import type { RedisConnection } from './redis-connection.js';

/** `redis.waitReplicas`: 'auto' = one replica when the master has any connected; N = exactly N; 0 = never wait. */
export type WaitReplicasSetting = 'auto' | number;

export interface ReplicaWaitOptions {
  /** The connection that made the writes: WAIT counts this client's writes only. */
  connection: RedisConnection;
  /** A key in ringproof's slot, so on Cluster WAIT and INFO go to the master holding the writes. */
  routingKey: string;
  setting: WaitReplicasSetting;
  timeoutMs: number;
  logger?: Logger;
  /** How long an 'auto' reading of the master's connected replicas is trusted (ms). */
  probeEveryMs?: number;
}

/**
 * Replication is asynchronous: a master can acknowledge a write and die before its replica got it,
 * and the promoted replica then lacks it (docs/topology.md). `afterWrite()` sends `WAIT n timeout` on
 * the writing connection and tells whether n replicas hold everything this client wrote so far.
 * With 'auto' and a master without replicas (the embedded Redis, a lone master) it sends nothing
 * but one INFO every probeEveryMs.
 */
export class ReplicaWait {
  private readonly opts: ReplicaWaitOptions;
  private readonly probeEveryMs: number;
  private replicas = 0;
  private probedAt = -Infinity;
  private lastShortLog = 0;

  constructor(opts: ReplicaWaitOptions) {
    this.opts = opts;
    this.probeEveryMs = opts.probeEveryMs ?? 1000;
  }

  /** True when the writes are on enough replicas (or nothing is to be waited for); never throws. */
  async afterWrite(): Promise<boolean> {
    const { setting } = this.opts;
    if (setting === 0) return true;
    try {
      const needed = setting === 'auto' ? Math.min(1, await this.connectedReplicas()) : setting;
      if (needed === 0) return true;
      const acked = Number(await this.onSlotMaster('WAIT', needed, this.opts.timeoutMs));
      if (acked >= needed) return true;
      this.probedAt = -Infinity; // a replica may have gone: read the count again next time
      this.logShort(`${acked} of ${needed} replicas acknowledged within ${this.opts.timeoutMs} ms`);
      return false;
    } catch (err) {
      this.logShort((err as Error).message);
      return false;
    }
  }

  private async connectedReplicas(): Promise<number> {
    const now = Date.now();
    if (now - this.probedAt < this.probeEveryMs) return this.replicas;
    const info = String(await this.onSlotMaster('INFO', 'replication'));
    this.replicas = Number(/^connected_slaves:(\d+)/m.exec(info)?.[1] ?? 0);
    this.probedAt = now;
    return this.replicas;
  }

  /**
   * A keyless command on the node of routingKey's slot: on Cluster a pipeline goes to the node of its
   * keyed commands, so an EXISTS carries it there (on the same connection as the writes).
   */
  private async onSlotMaster(command: string, ...args: Array<string | number>): Promise<unknown> {
    const reply = await this.opts.connection.pipeline().exists(this.opts.routingKey).call(command, ...args).exec();
    const [err, value] = reply?.[1] ?? [new Error(`${command}: no reply`), undefined];
    if (err) throw err;
    return value;
  }

  private logShort(why: string): void {
    const now = Date.now();
    if (now - this.lastShortLog < 10_000) return;
    this.lastShortLog = now;
    this.opts.logger?.warn({ why, setting: this.opts.setting },
      'redis: writes not yet confirmed on a replica (redis.waitReplicas); they are kept and sent again');
  }
}

/**
 * The ReplicaWait of a process's writing connection. The embedded redis-server has no replica, so it
 * never waits there whatever the setting (the default path costs nothing).
 */
export function replicaWaitFor(redis: RedisConfig, connection: RedisConnection, logger?: Logger): ReplicaWait {
  return new ReplicaWait({
    connection, routingKey: redis.keyPrefix, logger,
    setting: redis.url === undefined ? 0 : redis.waitReplicas, timeoutMs: redis.waitTimeoutMs,
  });
}
