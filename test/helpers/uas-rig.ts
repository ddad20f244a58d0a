import type { SipTransport, TrunkConfig } from '../../src/config/config-types.js';
import { defaultConfig } from '../../src/config/defaults.js';
import { Edge } from '../../src/edge/edge.js';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.js';
import { SipCounters } from '../../src/metrics/sip-counters.js';
import type { ReplyPath } from '../../src/sip/transports/index.js';
import { UasCore } from '../../src/sip/uas/index.js';
import { CollectingSink } from './collecting-sink.js';
import { logCapture } from './log-capture.js';
import { parsePrometheusText, type MetricsSnapshot } from './metrics-scrape.js';
import { parseResponse, type SipResponse } from './sip-client.js';

/** The loopback trunk the rig's messages come from (127.0.0.1), rejecting with 486 unless told. */
export const RIG_TRUNK: TrunkConfig = {
  name: 'loopback', sources: ['127.0.0.0/8', '::1'], defaultCountry: 'GB', rejectCode: 486, cliSources: ['pai', 'rpid', 'from'],
};

/** A reply path that keeps what the core sends, parsed, in order. */
export class CollectingReplyPath implements ReplyPath {
  readonly sent: SipResponse[] = [];
  constructor(readonly transport: SipTransport) {}
  send(data: Buffer): boolean {
    // The core reuses its encoding buffer: copy before it is overwritten.
    const response = parseResponse(Buffer.from(data));
    if (!response) throw new Error(`the core sent no SIP response: ${data.toString('latin1')}`);
    this.sent.push(response);
    return true;
  }
}

export interface UasRig {
  core: UasCore;
  sink: CollectingSink;
  metrics: Metrics;
  logs: Record<string, unknown>[];
  /** Hands one message to the core, as a listener would, and returns the responses it sent to it. */
  send(text: string, opts?: { transport?: SipTransport; address?: string; port?: number }): SipResponse[];
  /** The metrics as /metrics would show them now. */
  scrape(): Promise<MetricsSnapshot>;
  stop(): void;
}

/**
 * The native UAS core in-process, with the real edge, a collecting event sink and collecting reply
 * paths: no sockets, no daemon, so an RFC 3261 rule is checked in milliseconds. (bench/hot-path.mjs
 * wires the core the same way for timing.) Timers are real; call stop() when done.
 */
export function uasRig(opts: { trunks?: TrunkConfig[] } = {}): UasRig {
  const cfg = defaultConfig();
  const metrics = createMetrics({ defaults: false });
  const { lines: logs, logger } = logCapture('debug');
  const sink = new CollectingSink();
  const core = new UasCore(cfg.sip, new SipCounters(metrics), logger);
  core.start(new Edge({ config: { trunks: opts.trunks ?? [RIG_TRUNK], sip: cfg.sip }, metrics, logger, sink }));
  return {
    core,
    sink,
    metrics,
    logs,
    send(text, o = {}) {
      const reply = new CollectingReplyPath(o.transport ?? 'udp');
      core.handle(Buffer.from(text, 'latin1'), reply, o.address ?? '127.0.0.1', o.port ?? 5099);
      return reply.sent;
    },
    async scrape() {
      return parsePrometheusText(await metrics.registry.metrics());
    },
    stop() {
      core.stop();
    },
  };
}
