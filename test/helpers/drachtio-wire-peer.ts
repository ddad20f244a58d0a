import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';

/**
 * The server side of drachtio's wire protocol on a real loopback socket — enough of drachtio-server
 * for a real drachtio-srf to connect, authenticate, register routes, be pinged and get SIP requests:
 * frames are `<byte length>#<uuid>|<verb>|...`, SIP requests go out as
 * `uuid|sip|network|bytes|protocol|address|port|time|transactionId|dialogId|` CRLF raw-SIP.
 */
export interface AppFrame {
  /** Byte length announced in the frame. */
  bytes: number;
  msgId: string;
  verb: string;
  tokens: string[];
  /** Text after the first CRLF (the SIP message of a `sip` frame). */
  body: string;
}

export interface SipFromNetwork {
  raw: Buffer | string;
  transactionId: string;
  protocol?: string;
  address?: string;
  port?: number;
}

export class WirePeer {
  readonly frames: AppFrame[] = [];
  readonly sockets = new Set<Socket>();
  /** When true, pings get no pong (a server that stopped reading). */
  mutePings = false;
  connections = 0;
  private server: Server | undefined;
  private waiters: { pred: (f: AppFrame) => boolean; resolve: (f: AppFrame) => void }[] = [];

  constructor(private readonly secret: string) {}

  async listen(port = 0): Promise<number> {
    const server = createServer((s) => this.accept(s));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    return typeof addr === 'object' && addr ? addr.port : 0;
  }

  /** Drops every connection and stops listening. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  sendSip(req: SipFromNetwork): void {
    const socket = [...this.sockets].at(-1);
    if (!socket) throw new Error('no app connected');
    const raw = typeof req.raw === 'string' ? Buffer.from(req.raw, 'latin1') : req.raw;
    const leader = `${randomUUID()}|sip|network|${raw.length}|${req.protocol ?? 'udp'}|${req.address ?? '127.0.0.1'}|${req.port ?? 5099}|` +
      `12:00:00.000000|${req.transactionId}||\r\n`;
    this.write(socket, Buffer.concat([Buffer.from(leader, 'latin1'), raw]));
  }

  next(pred: (f: AppFrame) => boolean, timeoutMs = 3_000): Promise<AppFrame> {
    const seen = this.frames.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (f: AppFrame) => { clearTimeout(t); resolve(f); } };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error('no matching frame from the app in time'));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  private accept(socket: Socket): void {
    this.connections++;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const hash = buf.indexOf('#');
        if (hash <= 0) return;
        const bytes = Number.parseInt(buf.toString('latin1', 0, hash), 10);
        if (buf.length < hash + 1 + bytes) return;
        const text = buf.toString('utf8', hash + 1, hash + 1 + bytes);
        buf = buf.subarray(hash + 1 + bytes);
        this.onFrame(socket, bytes, text);
      }
    });
  }

  private onFrame(socket: Socket, bytes: number, text: string): void {
    const crlf = text.indexOf('\r\n');
    const leader = crlf === -1 ? text : text.slice(0, crlf);
    const tokens = leader.split('|');
    const frame: AppFrame = { bytes, msgId: tokens[0] ?? '', verb: tokens[1] ?? '', tokens, body: crlf === -1 ? '' : text.slice(crlf + 2) };
    this.frames.push(frame);
    switch (frame.verb) {
      case 'authenticate':
        this.respond(socket, frame.msgId, tokens[2] === this.secret ? 'OK|127.0.0.1:5060|v0.9.10-test|' : 'NO|incorrect secret');
        break;
      case 'route':
        this.respond(socket, frame.msgId, 'OK');
        break;
      case 'ping':
        if (!this.mutePings) this.respond(socket, frame.msgId, 'OK');
        break;
      case 'sip':
        this.respond(socket, frame.msgId, 'OK');
        break;
      default:
        break;
    }
    for (const w of [...this.waiters]) {
      if (w.pred(frame)) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(frame);
      }
    }
  }

  private respond(socket: Socket, msgId: string, rest: string): void {
    this.write(socket, Buffer.from(`${randomUUID()}|response|${msgId}|${rest}`, 'utf8'));
  }

  private write(socket: Socket, payload: Buffer): void {
    socket.write(Buffer.concat([Buffer.from(`${payload.length}#`, 'latin1'), payload]));
  }
}
