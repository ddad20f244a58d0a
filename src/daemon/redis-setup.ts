import type { Logger } from 'pino';
import type { RingproofConfig } from '../config/config-types.js';
import { EmbeddedRedis } from '../redis/embedded-redis.js';
import { redactRedisUrl } from '../redis/redis-url.js';

/** Where this process finds Redis: the configured URL, or a private redis-server it supervises. */
export interface RedisEndpoint {
  url: string;
  embedded: EmbeddedRedis | undefined;
  stop(): Promise<void>;
}

export async function resolveRedis(config: RingproofConfig, logger: Logger): Promise<RedisEndpoint> {
  if (config.redis.url !== undefined) {
    logger.info({ redis: redactRedisUrl(config.redis.url) }, 'using external Redis');
    return { url: config.redis.url, embedded: undefined, stop: async () => undefined };
  }
  const embedded = new EmbeddedRedis({
    binary: config.redis.embeddedBinary, stateDir: config.stateDir, logger,
    appendfsync: config.redis.appendfsync, maxmemoryMb: config.redis.maxmemoryMb,
  });
  await embedded.start();
  logger.info({ redis: embedded.url, stateDir: config.stateDir, appendfsync: config.redis.appendfsync, maxmemoryMb: config.redis.maxmemoryMb },
    'no REDIS_URL: started embedded redis-server (AOF on)');
  return { url: embedded.url, embedded, stop: () => embedded.stop() };
}
