import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { BlocklistMirror } from '../abuse/blocklist-mirror.js';
import { createBlocklistMetrics } from '../abuse/blocklist-metrics.js';
import { BlocklistStore } from '../abuse/blocklist-store.js';
import { AutoBlocker } from '../abuse/auto-blocker.js';
import { EnumerationDetector } from '../abuse/enumeration-detector.js';
import { HammerDetector } from '../abuse/hammer-detector.js';
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
 */
export function startEdgeAbuse(
  config: RingproofConfig, redisUrl: string, shared: RedisConnection, prefix: string, registry: Registry, logger: Logger,
  candidates: CandidateFilter | undefined,
): { edge: Pick<EdgeOptions, 'blocklist' | 'anomaly'>; stop: () => Promise<void> } {
  const subscriber = createRedis(redisUrl, { role: 'client', logger });
  const metrics = createBlocklistMetrics(registry);
  const store = new BlocklistStore(shared, prefix);
  const mirror = new BlocklistMirror({
    subscriber, reader: shared, keys: store.keys, reloadMs: config.abuse.blocklist.reloadSeconds * 1000, logger,
    onSize: (n) => metrics.entries.set(n),
  });
  const events = createAbuseEventSink(config, shared, prefix, registry, logger);
  const blocker = new AutoBlocker({ add: (input) => store.add(input, 'auto'), putLocal: (e) => mirror.current.put(e), events, logger, registry });
  const detectors: Array<{ observe(cli: string, now: number): void }> = [];
  if (candidates !== undefined) {
    const { hammering, enumeration } = config.abuse;
    if (hammering.enabled) detectors.push(new HammerDetector({ config: hammering, candidates, blocker, registry }));
    if (enumeration.enabled) detectors.push(new EnumerationDetector({ config: enumeration, candidates, blocker, registry }));
  }
  const anomaly = detectors.length === 0 ? undefined : { observe: (cli: string, now: number): void => { for (const d of detectors) d.observe(cli, now); } };
  return {
    edge: { blocklist: { source: mirror, metrics }, ...(anomaly === undefined ? {} : { anomaly }) },
    stop: async () => {
      mirror.close();
      await events.close();
      subscriber.disconnect();
    },
  };
}
