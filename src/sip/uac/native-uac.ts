import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { OutboundConfig, OutboundTrunkConfig, SipConfig } from '../../config/config-types.js';
import { ErrorCodes } from '../../errors/codes.js';
import { RingproofError } from '../../errors/ringproof-error.js';
import { type MessageHandler, type ReplyPath, UdpListener } from '../transports/index.js';
import { buildResponse, parseMessage, parseTopVia } from '../wire/index.js';
import { FlashCall } from './flash-call.js';
import type { FlashCallRequest, FlashCallResult, FlashUac, TrunkAttempt } from './flash-call-types.js';
import { placeWithFailover, type UacObserver } from './place-with-failover.js';
import { TcpConnector } from './tcp-connector.js';
import { TrunkGate } from './trunk-gate.js';
import { resolveTrunkHop, type TrunkHop } from './trunk-hop.js';
import { callIdentity, minimalSdp } from './uac-requests.js';

/** Messages the UAC's socket did not use, by why (for metrics and tests). */
export interface UacDrops {
  /** Too large, unparseable or malformed. */
  malformed: number;
  /** A response matching no call (a late retransmission, or someone else's). */
  strayResponse: number;
  /** A request from an address that is no trunk's next hop. */
  foreignRequest: number;
}

interface TrunkRuntime {
  cfg: OutboundTrunkConfig;
  gate: TrunkGate;
  /** The next hop (outbound proxy or target), resolved to an IP at start. */
  hop: TrunkHop;
  /** Our address as the next hop sees it: Via and Contact. */
  local: { host: string; port: number };
  tcp: TcpConnector | undefined;
  calls: Set<FlashCall>;
}

/**
 * The native engine's UAC for flash calls: its own UDP socket (and TCP connections per trunk) on
 * `outbound.bindAddress`, sending only ever to configured trunks. Responses find their call by
 * Call-ID. Requests from a trunk's next hop: a BYE inside a call (the far end hung up after a 2xx)
 * and OPTIONS get 200, others 481; requests from anywhere else are dropped.
 */
export class NativeUac implements MessageHandler, FlashUac {
  private readonly udp: UdpListener;
  private readonly trunks = new Map<string, TrunkRuntime>();
  private readonly gates = new Map<string, TrunkGate>();
  private readonly byCallId = new Map<string, FlashCall>();
  /** The next hops' IP addresses (as the sockets report sources). */
  private readonly hopAddresses = new Set<string>();
  private running = false;
  readonly drops: UacDrops = { malformed: 0, strayResponse: 0, foreignRequest: 0 };

  constructor(
    private readonly cfg: OutboundConfig,
    private readonly sip: Pick<SipConfig, 't1Ms' | 't2Ms' | 'maxMessageBytes'>,
    private readonly logger: Logger,
    private readonly observer: UacObserver | undefined = undefined,
  ) {
    const family = isIP(cfg.bindAddress) === 6 ? 6 : 4;
    this.udp = new UdpListener(
      { transport: 'udp', host: cfg.bindAddress, port: 0, family, text: `udp:${cfg.bindAddress}:0` },
      this,
      (err) => logger.error({ err, code: ErrorCodes.LISTEN_FAILED }, 'outbound UDP socket error'),
    );
  }

  get ready(): boolean {
    return this.running;
  }

  /** Calls currently registered (placed and not yet retired). */
  get callsInFlight(): number {
    return this.byCallId.size;
  }

  get localUdpPort(): number {
    return this.udp.port;
  }

  trunkNames(): string[] {
    return [...this.trunks.keys()];
  }

  async start(): Promise<void> {
    await this.udp.start();
    for (const t of this.cfg.trunks) {
      let hop: TrunkHop;
      try {
        hop = await resolveTrunkHop(t);
      } catch (err) {
        await this.udp.stop();
        throw err;
      }
      const { ip } = hop;
      const host = this.cfg.advertiseAddress ?? (await localAddressToward(ip, hop.port, this.cfg.bindAddress));
      const rt: TrunkRuntime = {
        cfg: t, gate: new TrunkGate(t.cps, t.maxConcurrent, this.cfg.maxQueueMs), hop,
        local: { host, port: this.udp.port }, tcp: undefined, calls: new Set(),
      };
      if (hop.transport === 'tcp') {
        rt.tcp = new TcpConnector(ip, hop.port, this.cfg.bindAddress, this, this.sip.maxMessageBytes, () => {
          for (const c of rt.calls) c.transportFailed();
        });
      }
      this.trunks.set(t.name, rt);
      this.gates.set(t.name, rt.gate);
      this.hopAddresses.add(ip);
    }
    this.running = true;
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const c of [...this.byCallId.values()]) c.abort();
    for (const t of this.trunks.values()) t.tcp?.close();
    this.trunks.clear();
    this.gates.clear();
    this.hopAddresses.clear();
    await this.udp.stop();
  }

  async place(req: FlashCallRequest): Promise<FlashCallResult> {
    if (!this.running) throw new RingproofError(ErrorCodes.INTERNAL, 'outbound UAC is not running');
    return placeWithFailover(req, this.gates, (name, cli, sent) => this.run(this.trunks.get(name) as TrunkRuntime, req, cli, sent), this.observer);
  }

  private run(rt: TrunkRuntime, req: FlashCallRequest, cli: string, sent: () => void): Promise<TrunkAttempt> {
    return new Promise((resolve) => {
      const identity = callIdentity(rt.cfg, req.to, cli, rt.local);
      const path: ReplyPath = rt.tcp ?? (this.udp.pathTo(rt.hop.ip, rt.hop.port) as ReplyPath);
      const call: FlashCall = new FlashCall({
        trunk: rt.cfg.name,
        cli,
        identity,
        sdp: this.cfg.sdp ? minimalSdp(rt.local.host) : undefined,
        credentials: rt.cfg.credentials,
        t1Ms: this.sip.t1Ms,
        t2Ms: this.sip.t2Ms,
        reliable: rt.hop.transport === 'tcp',
        minRingMs: this.cfg.minRingMs,
        ringTimeoutMs: this.cfg.ringTimeoutMs,
        send: (text) => path.send(Buffer.from(text, 'latin1')),
        onEvent: req.onEvent,
        onOutcome: (a) => resolve(a),
        onRetired: () => {
          this.byCallId.delete(identity.callId);
          rt.calls.delete(call);
        },
      });
      this.byCallId.set(identity.callId, call);
      rt.calls.add(call);
      call.start();
      sent();
    });
  }

  /** Every message the UAC's socket or connections receive. Never throws. */
  handle(data: Buffer, reply: ReplyPath, address: string, port: number): void {
    try {
      const { msg, problem } = data.length > this.sip.maxMessageBytes ? { msg: undefined, problem: 'oversize' } : parseMessage(data.toString('latin1'));
      if (msg === undefined || problem !== undefined) {
        this.drops.malformed++;
        return;
      }
      const call = this.byCallId.get(msg.callId);
      if (!msg.isRequest) {
        if (call === undefined) this.drops.strayResponse++;
        else call.onResponse(msg);
        return;
      }
      // Requests are answered only for a trunk's next hop: this socket is no oracle or reflector
      // for anybody else.
      if (!this.hopAddresses.has(address)) {
        this.drops.foreignRequest++;
        return;
      }
      const via = parseTopVia(msg.via[0] ?? '');
      if (msg.method === 'ACK' || via === undefined) return;
      msg.source = { address, port, transport: reply.transport };
      // A BYE inside a call we placed (the far end hung up first) ends it; nothing else is served here.
      const code = msg.method === 'BYE' && call !== undefined ? 200 : msg.method === 'OPTIONS' ? 200 : 481;
      reply.send(Buffer.from(buildResponse(msg, via, { code, toTag: 'rpuac', extraHeaders: '', serverLine: '' }), 'latin1'));
    } catch (err) {
      this.logger.warn({ err, code: ErrorCodes.SIP_PARSE }, 'outbound UAC could not handle a message');
    }
  }
}

/** The local IP the kernel would use toward `ip` (a connected UDP socket sends nothing). */
async function localAddressToward(ip: string, port: number, bind: string): Promise<string> {
  if (bind !== '0.0.0.0' && bind !== '::') return bind;
  const s = createSocket(isIP(ip) === 6 ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.connect(port, ip, () => resolve());
    });
    return s.address().address;
  } finally {
    s.close();
  }
}
