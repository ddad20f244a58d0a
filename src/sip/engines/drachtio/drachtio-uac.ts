import type { Logger } from 'pino';
import type { OutboundConfig, OutboundTrunkConfig, SipConfig } from '../../../config/config-types.js';
import { ErrorCodes } from '../../../errors/codes.js';
import { RingproofError } from '../../../errors/ringproof-error.js';
import {
  type FlashCallRequest, type FlashCallResult, type FlashUac, minimalSdp, placeWithFailover, resolveTrunkHop, type TrunkAttempt,
  TrunkGate, type TrunkHop, type UacObserver,
} from '../../uac/index.js';
import { closeSrf } from './close-srf.js';
import { DrachtioFlashCall } from './drachtio-flash-call.js';
import { DRACHTIO_ENGINE_DEFAULTS, type DrachtioEngineOptions } from './drachtio-options.js';
import { PingWatchdog } from './ping-watchdog.js';
import { loadSrf, type SrfInstance } from './srf-seam.js';

export interface DrachtioUacOptions extends DrachtioEngineOptions {
  /** How long start() waits for the first connection to drachtio-server. */
  connectTimeoutMs: number;
}

interface TrunkRuntime {
  cfg: OutboundTrunkConfig;
  hop: TrunkHop;
}

/**
 * The drachtio engine's UAC for flash calls: a drachtio-srf connection of its own to the
 * drachtio-server of `sip.drachtio` (it claims no inbound methods, so the engine's connection keeps
 * every inbound INVITE), placing calls with createUAC through the server's SIP stack. Requests go to
 * the trunk's next hop (outbound proxy or target, resolved at start) as drachtio's `proxy`; the trunk
 * gates, failover and outcome rules are the native UAC's.
 */
export class DrachtioUac implements FlashUac {
  private readonly opts: DrachtioUacOptions;
  private readonly trunks = new Map<string, TrunkRuntime>();
  private readonly gates = new Map<string, TrunkGate>();
  private readonly calls = new Set<DrachtioFlashCall>();
  private srf: SrfInstance | undefined;
  private connected = false;
  private watchdog: PingWatchdog | undefined;
  /** drachtio-server's SIP address (for the SDP's connection line). */
  private sipHost = '0.0.0.0';

  constructor(
    private readonly cfg: OutboundConfig,
    private readonly sip: Pick<SipConfig, 't1Ms' | 'drachtio'>,
    private readonly logger: Logger,
    private readonly observer: UacObserver | undefined = undefined,
    options: Partial<DrachtioUacOptions> = {},
  ) {
    this.opts = { ...DRACHTIO_ENGINE_DEFAULTS, connectTimeoutMs: 5_000, ...options };
  }

  get ready(): boolean {
    return this.connected;
  }

  get callsInFlight(): number {
    return this.calls.size;
  }

  trunkNames(): string[] {
    return [...this.trunks.keys()];
  }

  /** Resolves the trunks' next hops and connects; throws RP_DRACHTIO_CONNECTION when no connection comes in time. */
  async start(): Promise<void> {
    if (this.srf) return;
    for (const t of this.cfg.trunks) {
      this.trunks.set(t.name, { cfg: t, hop: await resolveTrunkHop(t) });
      this.gates.set(t.name, new TrunkGate(t.cps, t.maxConcurrent, this.cfg.maxQueueMs));
    }
    const Srf = loadSrf();
    const srf = new Srf();
    this.srf = srf;
    this.watchdog = new PingWatchdog(() => srf.app.client, {
      intervalMs: this.opts.pingIntervalMs,
      timeoutMs: this.opts.pingTimeoutMs,
      onTimeout: (socket) => {
        this.logger.error({ code: ErrorCodes.DRACHTIO_CONNECTION }, 'drachtio-server stopped answering the UAC\'s pings; reconnecting');
        socket.destroy();
      },
    });
    const { host, port, secret } = this.sip.drachtio;
    const up = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), this.opts.connectTimeoutMs);
      srf.on('connect', (err, hostport) => {
        if (err) {
          this.logger.error({ code: ErrorCodes.DRACHTIO_CONNECTION, err: err.message }, 'drachtio-server refused the UAC\'s connection (check sip.drachtio.secret)');
          return;
        }
        this.sipHost = /^[a-z]+\/(.+):\d+$/.exec((hostport ?? '').split(',')[0]?.trim() ?? '')?.[1]?.replace(/^\[|\]$/g, '') ?? this.sipHost;
        const socket = srf.app.client?.mapServer.keys().next().value;
        if (socket) this.watchdog?.attach(socket);
        this.connected = true;
        clearTimeout(timer);
        resolve(true);
      });
    });
    srf.on('close', () => this.onClose());
    srf.on('error', (err) => {
      this.logger.warn({ code: ErrorCodes.DRACHTIO_CONNECTION, err: err.message, host, port }, 'drachtio-server connection error (UAC)');
    });
    srf.connect({ host, port, secret, enablePing: false, reconnect: { retryMaxDelay: this.opts.reconnectMaxDelayMs } });
    if (!(await up)) {
      await this.stop();
      throw new RingproofError(ErrorCodes.DRACHTIO_CONNECTION, `no connection to drachtio-server at ${host}:${port} within ${this.opts.connectTimeoutMs} ms`);
    }
  }

  async stop(): Promise<void> {
    const srf = this.srf;
    this.srf = undefined;
    this.connected = false;
    this.watchdog?.detach();
    for (const c of [...this.calls]) c.abort();
    this.trunks.clear();
    this.gates.clear();
    if (srf) await closeSrf(srf);
  }

  async place(req: FlashCallRequest): Promise<FlashCallResult> {
    if (!this.srf) throw new RingproofError(ErrorCodes.INTERNAL, 'outbound UAC is not running');
    if (!this.connected) {
      throw new RingproofError(ErrorCodes.DRACHTIO_CONNECTION, 'not connected to drachtio-server: no flash call placed');
    }
    return placeWithFailover(req, this.gates, (name, cli, sent) => this.run(this.trunks.get(name) as TrunkRuntime, req, cli, sent), this.observer);
  }

  private run(rt: TrunkRuntime, req: FlashCallRequest, cli: string, sent: () => void): Promise<TrunkAttempt> {
    return new Promise((resolve) => {
      const call: DrachtioFlashCall = new DrachtioFlashCall({
        srf: this.srf as SrfInstance,
        trunk: rt.cfg,
        hop: rt.hop,
        to: req.to,
        cli,
        sdp: this.cfg.sdp ? minimalSdp(this.sipHost) : undefined,
        t1Ms: this.sip.t1Ms,
        minRingMs: this.cfg.minRingMs,
        ringTimeoutMs: this.cfg.ringTimeoutMs,
        onEvent: req.onEvent,
        sent,
        onOutcome: (a) => resolve(a),
        onRetired: () => this.calls.delete(call),
      });
      this.calls.add(call);
      // Lost before this call started: it fails at once (class network) rather than waiting on a dead link.
      if (!this.connected) call.abort();
      else call.start();
    });
  }

  /** The connection dropped: srf reconnects, but the calls in progress are lost with it. */
  private onClose(): void {
    this.watchdog?.detach();
    if (this.connected && this.srf) {
      this.logger.warn({ code: ErrorCodes.DRACHTIO_CONNECTION, calls: this.calls.size }, 'drachtio-server connection lost; flash calls in progress end as failed (network)');
    }
    this.connected = false;
    for (const c of [...this.calls]) c.abort();
  }
}
