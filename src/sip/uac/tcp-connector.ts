import { connect, type Socket } from 'node:net';
import { type MessageHandler, type ReplyPath, StreamFramer } from '../transports/index.js';

const PONG = Buffer.from('\r\n');

/**
 * One outgoing TCP connection to a trunk's next hop, opened on first use and again after it closed.
 * Writes made while it connects are queued by the socket. Received messages (framed by
 * Content-Length, RFC 3261 §18.3) go to the handler with this connection as their reply path.
 */
export class TcpConnector implements ReplyPath {
  readonly transport = 'tcp' as const;
  private socket: Socket | undefined;
  private closed = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly localAddress: string,
    private readonly handler: MessageHandler,
    private readonly maxMessageBytes: number,
    /** The connection failed or closed: calls waiting on it learn so at once. */
    private readonly onClose: () => void,
  ) {}

  send(data: Buffer): boolean {
    if (this.closed) return false;
    const s = this.socket ?? this.open();
    if (s.destroyed) return false;
    s.write(data);
    return true;
  }

  close(): void {
    this.closed = true;
    this.socket?.destroy();
    this.socket = undefined;
  }

  private open(): Socket {
    const framer = new StreamFramer(this.maxMessageBytes);
    const wildcard = this.localAddress === '0.0.0.0' || this.localAddress === '::';
    const s = connect({ host: this.host, port: this.port, noDelay: true, ...(wildcard ? {} : { localAddress: this.localAddress }) });
    this.socket = s;
    s.on('data', (chunk: Buffer) => {
      for (const f of framer.push(chunk)) {
        if (f.kind === 'message') this.handler.handle(f.data, this, this.host, this.port);
        else if (f.kind === 'ping') s.write(PONG);
        else {
          s.destroy();
          return;
        }
      }
    });
    s.on('error', () => s.destroy());
    s.on('close', () => {
      if (this.socket === s) this.socket = undefined;
      this.onClose();
    });
    return s;
  }
}
