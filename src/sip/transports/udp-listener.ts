import { createSocket, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import type { ListenSpec } from '../../config/config-types.js';
import { ErrorCodes } from '../../errors/codes.js';
import { RingproofError } from '../../errors/ringproof-error.js';
import { type ReplyPath, UdpReplyPath } from './reply-path.js';
import type { MessageHandler } from './message-handler.js';
import { UdpSendQueue } from './udp-send-queue.js';

/** One bound UDP socket feeding datagrams to the UAS core. */
export class UdpListener {
  private socket: Socket | undefined;
  private queue: UdpSendQueue | undefined;
  /** Set once bound: from then on every send goes to a datagram's source address, an IP literal. */
  private bound = false;

  constructor(
    private readonly spec: ListenSpec,
    private readonly core: MessageHandler,
    private readonly onError: (err: Error) => void,
  ) {}

  async start(): Promise<void> {
    const socket = createSocket({
      type: this.spec.family === 6 ? 'udp6' : 'udp4',
      ipv6Only: this.spec.family === 6,
      lookup: (host, family, cb) => this.lookup(host, family, cb),
    });
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void =>
        reject(new RingproofError(ErrorCodes.LISTEN_FAILED, `sip.listen: cannot bind ${this.spec.text}: ${err.message}`, { cause: err }));
      socket.once('error', fail);
      socket.bind(this.spec.port, this.spec.host, () => {
        socket.off('error', fail);
        this.bound = true;
        resolve();
      });
    });
    // Bursts of thousands of INVITEs per second overflow the default receive buffer; ask for more
    // (the kernel caps it at net.core.rmem_max).
    try {
      socket.setRecvBufferSize(8 * 1024 * 1024);
      socket.setSendBufferSize(4 * 1024 * 1024);
    } catch {
      /* best effort */
    }
    socket.on('error', this.onError);
    const queue = new UdpSendQueue(socket, this.onError);
    this.queue = queue;
    socket.on('message', (data, rinfo) => {
      this.core.handle(data, new UdpReplyPath(queue, rinfo.address, rinfo.port), rinfo.address, rinfo.port);
    });
  }

  /**
   * dgram resolves the target of every send() with dns.lookup, which for an IP literal still costs
   * an isIP test, a process.nextTick and a closure per datagram. Replies only ever go to a source
   * address the kernel reported, so once bound an IP literal is answered synchronously; anything
   * else (and the bind itself) keeps the default resolver.
   */
  private lookup(
    host: string,
    family: number | LookupOneOptions,
    cb: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
  ): void {
    if (this.bound && typeof family === 'number') {
      const f = isIP(host);
      if (f !== 0) {
        cb(null, host, f);
        return;
      }
    }
    dnsLookup(host, family as LookupOneOptions, cb);
  }

  get port(): number {
    return this.socket?.address().port ?? this.spec.port;
  }

  /** A path for requests this socket sends first (the flash-call UAC); `address` must be an IP literal. */
  pathTo(address: string, port: number): ReplyPath | undefined {
    return this.queue ? new UdpReplyPath(this.queue, address, port) : undefined;
  }

  async stop(): Promise<void> {
    const s = this.socket;
    // The last responses go out before the socket closes.
    this.queue?.flush();
    this.socket = undefined;
    this.queue = undefined;
    this.bound = false;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
