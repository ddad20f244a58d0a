import type { Logger } from 'pino';
import type { SipConfig } from '../../config/config-types.js';
import { ErrorCodes } from '../../errors/codes.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { EdgeHandler, SipEngine } from '../contract/index.js';
import { SipCounters } from '../../metrics/sip-counters.js';
import { TcpListener, UdpListener } from '../transports/index.js';
import { UasCore } from '../uas/index.js';

/** The embedded engine: ringproof's own RFC 3261 UAS on UDP and TCP. */
export class NativeEngine implements SipEngine {
  readonly name = 'native' as const;
  private readonly core: UasCore;
  private readonly udp: UdpListener[] = [];
  private readonly tcp: TcpListener[] = [];
  private running = false;

  constructor(
    private readonly cfg: SipConfig,
    metrics: Metrics,
    logger: Logger,
  ) {
    const counters = new SipCounters(metrics);
    this.core = new UasCore(cfg, counters, logger);
    for (const spec of cfg.listen) {
      if (spec.transport === 'udp') {
        this.udp.push(new UdpListener(spec, this.core, (err) => logger.error({ err, code: ErrorCodes.LISTEN_FAILED }, 'UDP socket error')));
      } else {
        this.tcp.push(new TcpListener(spec, this.core, counters, {
          maxMessageBytes: cfg.maxMessageBytes,
          maxConnections: cfg.maxTcpConnections,
          idleTimeoutMs: cfg.tcpIdleTimeoutMs,
          onCountChange: (d) => metrics.tcpConnections.inc(d),
        }));
      }
    }
    metrics.transactionSource = () => this.core.transactions.size;
  }

  async start(handler: EdgeHandler): Promise<void> {
    this.core.start(handler);
    try {
      for (const l of this.udp) await l.start();
      for (const l of this.tcp) await l.start();
    } catch (err) {
      await this.closeSockets();
      this.core.stop();
      throw err;
    }
    this.running = true;
  }

  get ready(): boolean {
    return this.running;
  }

  transactionCount(): number {
    return this.core.transactions.size;
  }

  /** Bound ports, in listen order per transport (useful with port 0). */
  boundPorts(): { udp: number[]; tcp: number[] } {
    return { udp: this.udp.map((l) => l.port), tcp: this.tcp.map((l) => l.port) };
  }

  async stop(graceMs: number): Promise<void> {
    if (!this.running) return;
    this.running = false;
    // No new TCP connections; UDP keeps answering while final responses wait for their ACKs, so
    // carriers do not see a transaction die half-way.
    for (const l of this.tcp) await l.stopAccepting();
    // A lost final response is re-sent by timer G within T2; past that, waiting longer for ACKs
    // that may never come (a broken peer) only delays the shutdown.
    const deadline = performance.now() + Math.min(graceMs, 2 * this.cfg.t2Ms);
    while (this.core.transactions.awaitingAck() > 0 && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.closeSockets();
    this.core.stop();
  }

  private async closeSockets(): Promise<void> {
    for (const l of this.tcp) {
      await l.stopAccepting();
      l.closeAll();
    }
    for (const l of this.udp) await l.stop();
  }
}
