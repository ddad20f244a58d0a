import type { Logger } from 'pino';
import type { RingproofConfig } from '../config/config-types.js';
import { FloodGuard, createFloodGuardMetrics } from '../abuse/index.js';
import { Edge, type EdgeOptions } from '../edge/edge.js';
import type { EventSink } from '../edge/event-sink.js';
import type { Metrics } from '../metrics/metrics.js';
import { DrachtioEngine, NativeEngine } from '../sip/engines/index.js';
import type { SipEngine } from '../sip/contract/index.js';

/** The SIP side of a process: an engine answering SIP and the edge turning INVITEs into CallEvents. */
export interface EdgeRole {
  engine: SipEngine;
  edge: Edge;
  /** Stops the edge's own timers (flood-guard sweep); after the engine has stopped. */
  close(): void;
  /** SIGHUP: puts abuse.floodGuard in force (the caller has validated the configuration). */
  prepareReload(config: RingproofConfig): () => void;
  sipPorts(): { udp: number[]; tcp: number[] };
}

export async function startEdgeRole(
  config: RingproofConfig, metrics: Metrics, logger: Logger, sink: EventSink,
  abuse: Pick<EdgeOptions, 'blocklist' | 'anomaly'> = {},
): Promise<EdgeRole> {
  // Made even when disabled (its limits then read 0), so a reload can turn it on.
  const floodGuard = new FloodGuard({ config: config.abuse.floodGuard, metrics: createFloodGuardMetrics(metrics.registry), logger });
  const edge = new Edge({ config, metrics, logger, sink, floodGuard, ...abuse });
  const prepareReload = (next: RingproofConfig): () => void => {
    const trunks = edge.prepareReload(next);
    return () => {
      trunks();
      floodGuard.reconfigure(next.abuse.floodGuard);
    };
  };
  if (edge.usingLoopbackDefault) {
    logger.warn('no trunks configured: only loopback sources (127.0.0.0/8, ::1) are served; add trunks to accept carrier traffic');
  }
  if (config.sip.engine === 'drachtio') {
    const engine = new DrachtioEngine(config.sip, metrics, logger);
    // Returns at once and keeps reconnecting while drachtio-server is down; /readyz follows it.
    await engine.start(edge);
    const up = await engine.waitReady(5_000);
    logger.info({ drachtio: `${config.sip.drachtio.host}:${config.sip.drachtio.port}`, connected: up, contacts: engine.serverContacts }, 'SIP engine drachtio');
    return { engine, edge, prepareReload, close: () => floodGuard.close(), sipPorts: () => ({ udp: [], tcp: [] }) };
  }
  const engine = new NativeEngine(config.sip, metrics, logger);
  await engine.start(edge);
  logger.info({ listen: config.sip.listen.map((l) => l.text), ports: engine.boundPorts(), trunks: edge.trunks.map((t) => t.name) }, 'SIP engine native listening');
  return { engine, edge, prepareReload, close: () => floodGuard.close(), sipPorts: () => engine.boundPorts() };
}
