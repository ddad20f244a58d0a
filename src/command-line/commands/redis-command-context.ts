import { loadConfig } from '../../config/load-config.js';
import type { RingproofConfig } from '../../config/config-types.js';
import { bullmqPrefix, createRedis, type RedisConnection } from '../../redis/redis-connection.js';
import { embeddedRedisUrl } from '../../redis/embedded-redis.js';

/**
 * Ops commands that talk to Redis directly (audit export, dead letters) use the same configuration
 * as `serve`: REDIS_URL, or the embedded redis-server's socket under the state directory.
 */
export async function withRedis<T>(configFile: string | undefined, fn: (redis: RedisConnection, prefix: string, config: RingproofConfig) => Promise<T>): Promise<T> {
  const config = loadConfig({ ...(configFile ? { file: configFile } : {}), env: process.env });
  const url = config.redis.url ?? embeddedRedisUrl(config.stateDir);
  const redis = createRedis(url, { role: 'client' });
  try {
    return await fn(redis, bullmqPrefix(config.redis.keyPrefix), config);
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}
