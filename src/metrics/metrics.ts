import { AggregatorRegistry, Counter, Gauge, Registry, collectDefaultMetrics, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { HotHistogram } from './hot-histogram.js';

/**
 * All metrics of one process, on one registry (not prom-client's global one, so tests can run
 * several daemons in one process). Created once at start-up and passed down.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly sipRequests: Counter<'method' | 'transport' | 'trunk'>;
  readonly sipResponses: Counter<'code' | 'transport'>;
  readonly sipDrops: Counter<'reason' | 'transport'>;
  readonly sipRetransmissions: Counter<'kind' | 'transport'>;
  readonly inviteToFinal: HotHistogram<'transport'>;
  readonly sipTransactions: Gauge;
  readonly tcpConnections: Gauge;
  readonly callEvents: Counter<'trunk' | 'cli_origin'>;
  /**
   * Run before the SIP and call-event counters are read (scrape, get()): hot paths count in plain
   * numbers and add them to prom-client here, since every prom-client inc() hashes its label set.
   */
  readonly flushHooks: Array<() => void>;
  /** Read at scrape time for the transactions gauge (set by the SIP engine). */
  transactionSource: () => number;
  /**
   * Registries of other threads of this process (the workers' thread, pipeline.workerThread), read
   * at scrape time and merged into this one's: counters and histograms add up.
   */
  readonly remoteSources: Array<() => Promise<RemoteMetrics>>;
}

/** A registry's metrics as getMetricsAsJSON() gives them (what crosses a thread boundary). */
export type RemoteMetrics = MetricObjectWithValues<MetricValue<string>>[];

/** The exposition text of `metrics`, with every remote source's metrics merged in. */
export async function renderMetrics(metrics: Metrics): Promise<string> {
  if (metrics.remoteSources.length === 0) return metrics.registry.metrics();
  const parts = await Promise.all([metrics.registry.getMetricsAsJSON(), ...metrics.remoteSources.map((s) => s())]);
  return AggregatorRegistry.aggregate(parts).metrics();
}

/** Methods we name in labels; anything else is "other" so a sender cannot blow up cardinality. */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER', 'INFO', 'PRACK', 'UPDATE',
  'SUBSCRIBE', 'NOTIFY', 'REFER', 'MESSAGE', 'PUBLISH',
]);

export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : 'other';
}

/** Fine enough to see 100 µs steps near the bottom, coarse up to a second. */
export const INVITE_TO_FINAL_BUCKETS = [
  0.000025, 0.00005, 0.0001, 0.0002, 0.0003, 0.0005, 0.00075, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05,
  0.1, 0.25, 1,
];

export interface MetricsOptions {
  /** Collect process/Node.js default metrics (event-loop lag among them). */
  defaults?: boolean;
}

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const flushHooks: Array<() => void> = [];
  const flush = (): void => {
    for (const f of flushHooks) f();
  };
  if (opts.defaults !== false) {
    // Lag is sampled every 100 ms: each sample still measures the delay exactly, and 10 samples/s
    // are plenty between scrapes. At 20 ms the sampling timer's wake-ups alone were ~0.5 % of a
    // core on an idle daemon here (2 KVM vCPUs); at 100 ms an idle daemon uses ~0.2 %.
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  }
  const m: Metrics = {
    registry,
    sipRequests: new Counter({
      name: 'ringproof_sip_requests_total',
      help: 'SIP requests received, by method, transport and trunk (retransmissions included)',
      labelNames: ['method', 'transport', 'trunk'] as const,
      registers: [registry],
      collect: flush,
    }),
    sipResponses: new Counter({
      name: 'ringproof_sip_responses_total',
      help: 'SIP responses sent, by status code and transport (retransmissions included)',
      labelNames: ['code', 'transport'] as const,
      registers: [registry],
      collect: flush,
    }),
    sipDrops: new Counter({
      name: 'ringproof_sip_drops_total',
      help: 'SIP messages dropped without a response, by reason',
      labelNames: ['reason', 'transport'] as const,
      registers: [registry],
      collect: flush,
    }),
    sipRetransmissions: new Counter({
      name: 'ringproof_sip_retransmissions_total',
      help: 'Retransmissions: kind=request_in (absorbed duplicate requests), kind=response_out (timer G), kind=response_out_shed (timer G over its budget: not sent), kind=duplicate_call (a new branch of a call already answered)',
      labelNames: ['kind', 'transport'] as const,
      registers: [registry],
      collect: flush,
    }),
    inviteToFinal: new HotHistogram({
      name: 'ringproof_sip_invite_to_final_seconds',
      help: 'Time from INVITE receipt to its final response handed to the transport (UDP writes it at the end of the same event-loop turn)',
      labelNames: ['transport'] as const,
      buckets: INVITE_TO_FINAL_BUCKETS,
      registers: [registry],
    }),
    sipTransactions: new Gauge({
      name: 'ringproof_sip_transactions',
      help: 'SIP server transactions held in memory',
      registers: [registry],
      collect() {
        this.set(m.transactionSource());
      },
    }),
    tcpConnections: new Gauge({
      name: 'ringproof_sip_tcp_connections',
      help: 'Open SIP TCP connections',
      registers: [registry],
    }),
    callEvents: new Counter({
      name: 'ringproof_call_events_total',
      help: 'CallEvents produced (one per call, not per retransmission), by trunk and CLI origin',
      labelNames: ['trunk', 'cli_origin'] as const,
      registers: [registry],
      collect: flush,
    }),
    transactionSource: () => 0,
    flushHooks,
    remoteSources: [],
  };
  return m;
}
