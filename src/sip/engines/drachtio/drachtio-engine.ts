import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { SipConfig, SipTransport } from '../../../config/config-types.js';
import { ErrorCodes } from '../../../errors/codes.js';
import type { Metrics } from '../../../metrics/metrics.js';
import { SipCounters } from '../../../metrics/sip-counters.js';
import { DropReasons, type EdgeHandler, type SipEngine, type SourceAddress } from '../../contract/index.js';
import { DrachtioInvite } from './drachtio-invite.js';
import { closeSrf } from './close-srf.js';
import { createDrachtioMetrics, type DrachtioMetrics } from './drachtio-metrics.js';
import { DRACHTIO_ENGINE_DEFAULTS, type DrachtioEngineOptions } from './drachtio-options.js';
import { PingWatchdog } from './ping-watchdog.js';
import { sendReply } from './send-reply.js';
import { ALLOW, hopsExhausted, NOT_ALLOWED_METHODS, OPTIONS_ACCEPT, rejectReason, unservedMethodCode } from '../../uas/index.js';
import { loadSrf, type SrfAgent, type SrfInstance, type SrfModule, type SrfRequest, type SrfResponse } from './srf-seam.js';

const DIGITS = /^\d{1,3}$/;

/**
 * The drachtio engine: ringproof as a drachtio-srf application connected to a drachtio-server
 * (inbound connection). drachtio-server owns the SIP transport and transaction layer (retransmissions,
 * ACK of our non-2xx, CANCEL), the edge decides as with the native engine, and every INVITE gets the
 * trunk's reject at once with a Reason header.
 *
 * `drop` decisions: drachtio-server has already taken the request into a server transaction (and
 * sent 100 Trying to an INVITE), so silence would only leave it, and srf's pending-INVITE map, holding
 * the transaction until the caller gives up — memory an attacker controls — while hiding nothing.
 * Under this engine a dropped request is answered 403 and still counted as a drop by reason.
 */
export class DrachtioEngine implements SipEngine {
  readonly name = 'drachtio' as const;
  private readonly opts: DrachtioEngineOptions;
  private readonly counters: SipCounters;
  private readonly dm: DrachtioMetrics;
  private readonly srfModule: SrfModule;
  private readonly serverHeaders: Record<string, string>;
  private srf: SrfInstance | undefined;
  private handler: EdgeHandler | undefined;
  private readonly watchdog: PingWatchdog;
  private connected = false;
  private everConnected = false;
  private stopped = false;
  private readonly timeOrigin = performance.timeOrigin;
  private readonly readyWaiters = new Set<() => void>();
  private contacts: string[] = [];

  constructor(
    private readonly cfg: SipConfig,
    metrics: Metrics,
    private readonly logger: Logger,
    options: Partial<DrachtioEngineOptions> = {},
  ) {
    this.opts = { ...DRACHTIO_ENGINE_DEFAULTS, ...options };
    this.counters = new SipCounters(metrics);
    this.dm = createDrachtioMetrics(metrics);
    this.dm.connected.set(0);
    this.srfModule = loadSrf();
    this.serverHeaders = cfg.serverHeader ? { Server: cfg.serverHeader } : {};
    this.watchdog = new PingWatchdog(() => this.agent(), {
      intervalMs: this.opts.pingIntervalMs,
      timeoutMs: this.opts.pingTimeoutMs,
      onTimeout: (socket) => this.pingTimedOut(socket),
    });
    metrics.transactionSource = () => this.transactionCount();
  }

  /**
   * Starts connecting and returns at once: while drachtio-server is unreachable the engine keeps
   * retrying with a capped backoff and `ready` stays false (so /readyz reports it).
   */
  async start(handler: EdgeHandler): Promise<void> {
    if (this.srf) return;
    this.handler = handler;
    this.stopped = false;
    const srf = new this.srfModule();
    this.srf = srf;
    srf.use('invite', (req, res) => this.onRequest(req, res, 'INVITE'));
    srf.use('options', (req, res) => this.onRequest(req, res, 'OPTIONS'));
    srf.use('bye', (req, res) => this.onRequest(req, res, 'BYE'));
    // The methods the response policy answers 405; drachtio-server answers what no app claims itself.
    for (const m of NOT_ALLOWED_METHODS) srf.use(m.toLowerCase(), (req, res) => this.onRequest(req, res, m));
    srf.on('connect', (err, hostport, serverVersion) => this.onConnect(err, hostport, serverVersion));
    srf.on('close', () => this.onClose());
    // Without an 'error' listener a refused connection would be thrown as an uncaught exception.
    srf.on('error', (err) => {
      this.logger.warn({ code: ErrorCodes.DRACHTIO_CONNECTION, err: err.message, host: this.cfg.drachtio.host, port: this.cfg.drachtio.port }, 'drachtio-server connection error');
    });
    srf.on('reconnecting', ({ delay, attempt }) => {
      this.logger.info({ code: ErrorCodes.DRACHTIO_CONNECTION, delayMs: delay, attempt }, 'reconnecting to drachtio-server');
    });
    srf.connect({
      host: this.cfg.drachtio.host,
      port: this.cfg.drachtio.port,
      secret: this.cfg.drachtio.secret,
      enablePing: false,
      reconnect: { retryMaxDelay: this.opts.reconnectMaxDelayMs },
    });
  }

  get ready(): boolean {
    return this.connected;
  }

  /**
   * Where drachtio-server takes SIP, as it reported on the last connect, e.g. ["udp/10.0.0.5:5060",
   * "tcp/10.0.0.5:5060"]; empty until connected.
   */
  get serverContacts(): readonly string[] {
    return this.contacts;
  }

  /** Resolves once connected (true) or after timeoutMs (false). For start-up logs and tests. */
  waitReady(timeoutMs: number): Promise<boolean> {
    if (this.connected) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.readyWaiters.delete(done);
        resolve(this.connected);
      };
      const timer = setTimeout(done, timeoutMs);
      this.readyWaiters.add(done);
    });
  }

  /** INVITEs drachtio-srf still tracks as unanswered; stays near 0 since every INVITE is answered at once. */
  transactionCount(): number {
    let n = 0;
    const agent = this.agent();
    if (agent) for (const entry of agent.mapServer.values()) n += entry.pendingNetworkInvites.size;
    return n;
  }

  async stop(_graceMs: number): Promise<void> {
    // Every request is answered synchronously, so there is nothing to drain: close the connection.
    const srf = this.srf;
    if (!srf || this.stopped) return;
    this.stopped = true;
    this.watchdog.detach();
    await closeSrf(srf);
    this.setConnected(false);
  }

  private agent(): SrfAgent | undefined {
    return this.srf?.app.client;
  }

  private currentSocket(): Socket | undefined {
    return this.agent()?.mapServer.keys().next().value;
  }

  private onConnect(err: Error | null, hostport?: string, serverVersion?: string): void {
    if (err) {
      this.logger.error({ code: ErrorCodes.DRACHTIO_CONNECTION, err: err.message }, 'drachtio-server refused the connection (check sip.drachtio.secret)');
      return;
    }
    if (this.stopped) {
      // Connected while stopping: do not stay.
      try { this.srf?.disconnect(); } catch { /* already gone */ }
      return;
    }
    this.contacts = hostport ? hostport.split(',').map((c) => c.trim()).filter((c) => c !== '') : [];
    const socket = this.currentSocket();
    if (socket) this.watchdog.attach(socket);
    if (this.everConnected) this.dm.reconnects.inc();
    this.logger.info(
      { hostport, serverVersion, reconnect: this.everConnected, drachtio: `${this.cfg.drachtio.host}:${this.cfg.drachtio.port}` },
      'connected to drachtio-server',
    );
    this.everConnected = true;
    this.setConnected(true);
  }

  private onClose(): void {
    this.watchdog.detach();
    if (this.connected && !this.stopped) {
      this.logger.warn({ code: ErrorCodes.DRACHTIO_CONNECTION }, 'drachtio-server connection lost; SIP is not answered until it is back');
    }
    this.setConnected(false);
  }

  private pingTimedOut(socket: Socket): void {
    this.dm.forcedDisconnects.inc({ reason: 'ping_timeout' });
    this.logger.error(
      { code: ErrorCodes.DRACHTIO_CONNECTION, timeoutMs: this.opts.pingTimeoutMs },
      'drachtio-server stopped answering pings; dropping the connection to reconnect',
    );
    // destroy → 'close' → drachtio-srf's reconnect with the capped backoff.
    socket.destroy();
  }

  private setConnected(up: boolean): void {
    this.connected = up;
    this.dm.connected.set(up ? 1 : 0);
    if (up) for (const w of [...this.readyWaiters]) w();
  }

  /** One request from drachtio-server. Never throws into drachtio-srf's socket handler. */
  private onRequest(req: SrfRequest, res: SrfResponse, method: string): void {
    const t0 = performance.now();
    const handler = this.handler;
    let source: SourceAddress | undefined;
    try {
      source = {
        address: req.source_address,
        port: Number(req.source_port),
        transport: transportOf(req.protocol),
      };
      if (!handler) return;
      const decision = handler.admit(source, method, req.get('user-agent'));
      if (decision.kind !== 'accept') {
        if (decision.kind === 'drop') this.counters.drop(decision.reason, source.transport);
        this.counters.request(method, source.transport, 'unknown');
        this.reply(req, res, 403, {}, source.transport);
        return;
      }
      this.counters.request(method, source.transport, decision.trunk);
      // drachtio-server does not check Max-Forwards on requests it hands to an app.
      const maxForwards = req.get('max-forwards')?.trim();
      if (hopsExhausted(method, maxForwards !== undefined && DIGITS.test(maxForwards) ? Number(maxForwards) : undefined)) {
        this.reply(req, res, 483, {}, source.transport);
        return;
      }
      switch (method) {
        case 'INVITE': {
          const code = decision.rejectCode;
          if (!this.reply(req, res, code, { Reason: rejectReason(code) }, source.transport)) return;
          this.counters.inviteToFinal((performance.now() - t0) / 1000, source.transport);
          handler.onInviteAnswered(new DrachtioInvite(req, source, this.timeOrigin + t0), decision.trunk, code);
          return;
        }
        case 'OPTIONS':
          this.reply(req, res, 200, { Allow: ALLOW, Accept: OPTIONS_ACCEPT }, source.transport);
          return;
        case 'BYE':
          this.reply(req, res, 481, {}, source.transport);
          return;
        default: {
          const code = unservedMethodCode(method);
          this.reply(req, res, code, code === 405 ? { Allow: ALLOW } : {}, source.transport);
        }
      }
    } catch (err) {
      this.logger.error({ code: ErrorCodes.INTERNAL, err, method }, 'drachtio request handling failed');
      if (!res.finalResponseSent) this.reply(req, res, 500, {}, source?.transport ?? 'udp');
    }
  }

  /** Sends a final response; true when it went out. */
  private reply(req: SrfRequest, res: SrfResponse, code: number, headers: Record<string, string>, transport: SipTransport): boolean {
    const outcome = sendReply(res, code, { ...headers, ...this.serverHeaders }, this.opts.maxFrameBytes);
    if (req.method === 'INVITE') {
      // srf keys its pending-INVITE map by the response's Call-ID, which sendReply strips; forget it here.
      this.agent()?.mapServer.get(req.socket)?.pendingNetworkInvites.delete(req.get('call-id') ?? '');
    }
    if (outcome === 'sent') {
      this.counters.response(code, transport);
      return true;
    }
    if (outcome === 'unframeable') this.dm.unframeable.inc();
    this.counters.drop(outcome === 'unframeable' ? DropReasons.UNFRAMEABLE : DropReasons.SEND_FAILED, transport);
    this.logger.warn({ code: ErrorCodes.DRACHTIO_CONNECTION, status: code, outcome }, 'response not sent to drachtio-server');
    return false;
  }
}

/** drachtio-server names the transport; everything stream-based counts as tcp in ringproof's labels. */
function transportOf(protocol: string): SipTransport {
  return protocol.toLowerCase() === 'udp' ? 'udp' : 'tcp';
}
