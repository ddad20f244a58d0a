import type { Cluster, Redis } from 'ioredis';
import type { ReplayStore } from './replay-store.js';

/**
 * The replay memory shared by every worker of a deployment: one key per PASSporT signature under the
 * hash-tagged prefix, so it sits in the same Cluster slot as the rest of ringproof's keys. A first
 * sighting costs one SET NX PX; only a key already held costs a GET as well. No script, so any Redis
 * version that ringproof supports will do.
 */
export class RedisReplayStore implements ReplayStore {
  private readonly keyPrefix: string;

  constructor(private readonly redis: Redis | Cluster, prefix: string) {
    this.keyPrefix = `${prefix}:stir:replay:`;
  }

  async claim(key: string, callId: string, ttlMs: number): Promise<string> {
    const redisKey = this.keyPrefix + key;
    const set = await this.redis.set(redisKey, callId, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
    if (set === 'OK') return callId;
    // Gone between the two commands: it outlived the freshness window, so nothing is replayed.
    return (await this.redis.get(redisKey)) ?? callId;
  }
}
