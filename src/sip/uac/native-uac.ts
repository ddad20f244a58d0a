import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { OutboundConfig, OutboundTrunkConfig, SipConfig, SipTarget } from '../../config/config-types.js';
import { ErrorCodes } from '../../errors/codes.js';
import { RingproofError } from '../../errors/ringproof-error.js';
import { type MessageHandler, type ReplyPath, UdpListener } from '../transports/index.js';
import { buildResponse, parseMessage, parseTopVia } from '../wire/index.js';
import { mayFailOver } from './failure-class.js';
import { FlashCall } from './flash-call.js';
import type { FlashCallRequest, FlashCallResult, TrunkAttempt } from './flash-call-types.js';
import { TcpConnector } from './tcp-connector.js';
import { TrunkGate } from './trunk-gate.js';
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

/** What the UAC reports for metrics: per-trunk attempts and gate refusals. */
export interface UacObserver {
  attempt(a: TrunkAttempt): void;
  refused(trunk: string, why: 'cps' | 'concurrency'): void;
}

interface TrunkRuntime {
  cfg: OutboundTrunkConfig;
  gate: TrunkGate;
  /** The next hop (outbound proxy or target), resolved to an IP at start. */
  hop: SipTarget & { ip: string };
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
export class NativeUac implements MessageHandler {
  private readonly udp: UdpListener;
  private readonly trunks = new Map<string, TrunkRuntime>();
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
      const hopCfg = t.outboundProxy ?? t.target;
      let ip = hopCfg.host;
      if (isIP(ip) === 0) {
        try {
          ip = (await lookup(hopCfg.host)).address;
        } catch (err) {
          await this.udp.stop();
          throw new RingproofError(ErrorCodes.CONFIG_INVALID, `outbound.trunks ${t.name}: cannot resolve ${hopCfg.host}: ${(err as Error).message}`, { cause: err });
        }
      }
      const host = this.cfg.advertiseAddress ?? (await localAddressToward(ip, hopCfg.port, this.cfg.bindAddress));
      const rt: TrunkRuntime = {
        cfg: t, gate: new TrunkGate(t.cps, t.maxConcurrent, this.cfg.maxQueueMs), hop: { ...hopCfg, ip },
        local: { host, port: this.udp.port }, tcp: undefined, calls: new Set(),
      };
      if (hopCfg.transport === 'tcp') {
        rt.tcp = new TcpConnector(ip, hopCfg.port, this.cfg.bindAddress, this, this.sip.maxMessageBytes, () => {
          for (const c of rt.calls) c.transportFailed();
        });
      }
      this.trunks.set(t.name, rt);
      this.hopAddresses.add(ip);
    }
    this.running = true;
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const c of [...this.byCallId.values()]) c.abort();
    for (const t of this.trunks.values()) t.tcp?.close();
    this.trunks.clear();
    this.hopAddresses.clear();
    await this.udp.stop();
  }

  /**
   * Places one flash call, trying the request's trunks in order; the next trunk only when this one
   * (not the user) failed. Unknown trunk names are refused before anything is sent.
   */
  async place(req: FlashCallRequest): Promise<FlashCallResult> {
    if (!this.running) throw new RingproofError(ErrorCodes.INTERNAL, 'outbound UAC is not running');
    const unknown = req.trunks.find((n) => !this.trunks.has(n));
    if (unknown !== undefined || req.trunks.length === 0) {
      throw new RingproofError(ErrorCodes.FLASH_TRUNK_UNKNOWN, `no outbound trunk named ${JSON.stringify(unknown ?? '')}`);
    }
    const attempts: TrunkAttempt[] = [];
    let last: TrunkAttempt | undefined;
    let lastTrunk: string | undefined;
    for (const name of req.trunks) {
      const rt = this.trunks.get(name) as TrunkRuntime;
      lastTrunk = name;
      const cli = typeof req.cli === 'string' ? req.cli : req.cli(name);
      if (cli === undefined) {
        last = undefined;
        continue;
      }
      const admitted = await rt.gate.acquire();
      if (typeof admitted === 'string') {
        this.observer?.refused(name, admitted);
        last = undefined;
        continue;
      }
      let attempt: TrunkAttempt;
      try {
        attempt = await this.run(rt, req, cli, admitted.sent);
      } finally {
        rt.gate.release();
      }
      this.observer?.attempt(attempt);
      attempts.push(attempt);
      last = attempt;
      if (attempt.outcome !== 'failed' || !mayFailOver(attempt.finalStatus, attempt.failureClass ?? 'rejected')) break;
    }
    return {
      outcome: last?.outcome ?? 'failed',
      failureClass: last === undefined ? 'capacity' : last.failureClass,
      trunk: last?.trunk ?? lastTrunk,
      cli: last?.cli,
      cancelConfirmed: last !== undefined && last.cancelSent && last.finalStatus === 487,
      attempts,
    };
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
