import { createServer, type Server, type Socket } from 'node:net';
import type { ListenSpec } from '../../config/config-types.js';
import { ErrorCodes } from '../../errors/codes.js';
import { RingproofError } from '../../errors/ringproof-error.js';
import { DropReasons } from '../contract/index.js';
import type { ReplyPath } from './reply-path.js';
import type { SipCounters } from '../../metrics/sip-counters.js';
import { StreamFramer } from './stream-framer.js';
import type { MessageHandler } from './message-handler.js';

const PONG = Buffer.from('\r\n');

/** A SIP TCP connection: framing in, replies out on the same connection. */
class TcpConnection implements ReplyPath {
  readonly transport = 'tcp' as const;
  private readonly framer: StreamFramer;
  private readonly address: string;
  private readonly port: number;

  constructor(
    private readonly socket: Socket,
    private readonly core: MessageHandler,
    private readonly counters: SipCounters,
    maxMessageBytes: number,
  ) {
    this.framer = new StreamFramer(maxMessageBytes);
    this.address = normalizeAddress(socket.remoteAddress ?? '');
    this.port = socket.remotePort ?? 0;
  }

  send(data: Buffer): boolean {
    if (this.socket.destroyed || !this.socket.writable) return false;
    this.socket.write(data);
    return true;
  }

  onData(chunk: Buffer): void {
    for (const f of this.framer.push(chunk)) {
      if (f.kind === 'message') this.core.handle(f.data, this, this.address, this.port);
      else if (f.kind === 'ping') this.send(PONG);
      else {
        this.counters.drop(DropReasons.OVERSIZE, 'tcp');
        this.socket.destroy();
        return;
      }
    }
  }
}

function normalizeAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** One TCP listening socket; bounded connections, idle ones closed. */
export class TcpListener {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly spec: ListenSpec,
    private readonly core: MessageHandler,
    private readonly counters: SipCounters,
    private readonly opts: { maxMessageBytes: number; maxConnections: number; idleTimeoutMs: number; onCountChange: (delta: number) => void },
  ) {}

  async start(): Promise<void> {
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void =>
        reject(new RingproofError(ErrorCodes.LISTEN_FAILED, `sip.listen: cannot bind ${this.spec.text}: ${err.message}`, { cause: err }));
      server.once('error', fail);
      server.listen({ port: this.spec.port, host: this.spec.host, ipv6Only: this.spec.family === 6, backlog: 1024 }, () => {
        server.off('error', fail);
        resolve();
      });
    });
  }

  get port(): number {
    const a = this.server?.address();
    return typeof a === 'object' && a ? a.port : this.spec.port;
  }

  /** Stop accepting; existing connections stay until closeAll(). */
  async stopAccepting(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) s.close();
  }

  closeAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  private accept(socket: Socket): void {
    if (this.sockets.size >= this.opts.maxConnections) {
      this.counters.drop(DropReasons.TCP_CONNECTION_LIMIT, 'tcp');
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    this.opts.onCountChange(1);
    const conn = new TcpConnection(socket, this.core, this.counters, this.opts.maxMessageBytes);
    socket.setTimeout(this.opts.idleTimeoutMs, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => conn.onData(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      if (this.sockets.delete(socket)) this.opts.onCountChange(-1);
    });
  }
}
