import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { BlocklistMirror } from '../abuse/blocklist-mirror.js';
import { createBlocklistMetrics } from '../abuse/blocklist-metrics.js';
import { BlocklistStore } from '../abuse/blocklist-store.js';
import { AutoBlocker } from '../abuse/auto-blocker.js';
import { AnomalyDetectors } from '../abuse/anomaly-detectors.js';
import type { RingproofConfig } from '../config/config-types.js';
import type { EdgeOptions } from '../edge/edge.js';
import type { CandidateFilter } from '../queue/pending-numbers.js';
import { createRedis, type RedisConnection } from '../redis/redis-connection.js';
import { createAbuseEventSink } from './abuse-event-sink.js';

/**
 * The edge's abuse parts that need Redis: its copy of the shared blocklist (a subscriber
 * connection of its own for the change announcements, the process's shared connection for the
 * reloads and writes) and the anomaly detectors (hammering CLI, enumerated number block), which
 * write their automatic entries through the same store and report them to the abuse event sink.
 * `reload` puts new abuse.hammering, abuse.enumeration and abuse.blocklist settings in force (SIGHUP).
 */
export function startEdgeAbuse(
  config: RingproofConfig, redisUrl: string, shared: RedisConnection, prefix: string, registry: Registry, logger: Logger,
  candidates: CandidateFilter | undefined,
): { edge: Pick<EdgeOptions, 'blocklist' | 'anomaly'>; stop: () => Promise<void>; reload: (next: RingproofConfig) => void } {
  const subscriber = createRedis(redisUrl, { role: 'client', logger });
  const metrics = createBlocklistMetrics(registry);
  const store = new BlocklistStore(shared, prefix);
  const mirror = new BlocklistMirror({
    subscriber, reader: shared, keys: store.keys, reloadMs: config.abuse.blocklist.reloadSeconds * 1000, logger,
    onSize: (n) => metrics.entries.set(n),
  });
  const events = createAbuseEventSink(config, shared, prefix, registry, logger);
  const blocker = new AutoBlocker({ addMany: (inputs) => store.addMany(inputs, 'auto'), putLocal: (e) => mirror.current.put(e), events, logger, registry });
  // Without a candidate filter nothing can be detected; with one the hook stays even with no
  // detector on, so a reload can turn one on.
  const anomaly = candidates === undefined ? undefined : new AnomalyDetectors({ settings: config.abuse, candidates, blocker, registry });
  let settings = config.abuse;
  const reload = (next: RingproofConfig): void => {
    anomaly?.reconfigure(next.abuse);
    if (next.abuse.blocklist.reloadSeconds !== settings.blocklist.reloadSeconds) mirror.setReloadMs(next.abuse.blocklist.reloadSeconds * 1000);
    settings = next.abuse;
  };
  return {
    reload,
    edge: { blocklist: { source: mirror, metrics }, ...(anomaly === undefined ? {} : { anomaly }) },
    stop: async () => {
      // The last automatic entries are written before the connections go.
      await blocker.close();
      mirror.close();
      await events.close();
      subscriber.disconnect();
    },
  };
}
