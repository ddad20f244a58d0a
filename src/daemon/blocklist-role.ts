import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { BlocklistMirror } from '../abuse/blocklist-mirror.js';
import { createBlocklistMetrics } from '../abuse/blocklist-metrics.js';
import { blocklistKeys } from '../abuse/blocklist-store.js';
import type { RingproofConfig } from '../config/config-types.js';
import type { EdgeOptions } from '../edge/edge.js';
import { createRedis, type RedisConnection } from '../redis/redis-connection.js';

/**
 * The edge's copy of the shared blocklist: a subscriber connection of its own for the change
 * announcements, the process's shared connection for the reloads.
 */
export function startBlocklistMirror(
  config: RingproofConfig, redisUrl: string, reader: RedisConnection, prefix: string, registry: Registry, logger: Logger,
): { edge: NonNullable<EdgeOptions['blocklist']>; mirror: BlocklistMirror; stop: () => Promise<void> } {
  const subscriber = createRedis(redisUrl, { role: 'client', logger });
  const metrics = createBlocklistMetrics(registry);
  const mirror = new BlocklistMirror({
    subscriber, reader, keys: blocklistKeys(prefix), reloadMs: config.abuse.blocklist.reloadSeconds * 1000, logger,
    onSize: (n) => metrics.entries.set(n),
  });
  return {
    edge: { source: mirror, metrics },
    mirror,
    stop: async () => {
      mirror.close();
      subscriber.disconnect();
    },
  };
}
