import { Counter, Gauge } from 'prom-client';
import type { Metrics } from '../../../metrics/metrics.js';
import { metricReuser } from '../../../metrics/reuse-metric.js';

/** Connection metrics of the drachtio engine, on the process registry next to the SIP counters. */
export interface DrachtioMetrics {
  /** 1 while connected and authenticated to drachtio-server, else 0. */
  readonly connected: Gauge;
  /** Connections re-established after a loss (the first connection is not counted). */
  readonly reconnects: Counter;
  /** Connections ringproof tore down itself, by reason (ping_timeout). */
  readonly forcedDisconnects: Counter<'reason'>;
  /** Responses not sent because drachtio-server could not have framed them. */
  readonly unframeable: Counter;
}

export function createDrachtioMetrics(m: Metrics): DrachtioMetrics {
  const registers = [m.registry];
  // A second engine in the same process (tests) reuses the registered metrics.
  const reuse = metricReuser(m.registry);
  return {
    connected: reuse('ringproof_drachtio_connected', () => new Gauge({
      name: 'ringproof_drachtio_connected',
      help: '1 while the drachtio-server connection is up and authenticated, else 0',
      registers,
    })),
    reconnects: reuse('ringproof_drachtio_reconnects_total', () => new Counter({
      name: 'ringproof_drachtio_reconnects_total',
      help: 'drachtio-server connections re-established after a loss',
      registers,
    })),
    forcedDisconnects: reuse('ringproof_drachtio_forced_disconnects_total', () => new Counter({
      name: 'ringproof_drachtio_forced_disconnects_total',
      help: 'drachtio-server connections dropped by ringproof, by reason (ping_timeout: the server stopped answering pings)',
      labelNames: ['reason'] as const,
      registers,
    })),
    unframeable: reuse('ringproof_drachtio_unframeable_total', () => new Counter({
      name: 'ringproof_drachtio_unframeable_total',
      help: 'Responses not sent to drachtio-server because they exceed what it can frame',
      registers,
    })),
  };
}
