import { createSocket, type Socket } from 'node:dgram';
import type { ListenSpec } from '../config/config-types.js';
import { ErrorCodes } from '../errors/codes.js';
import { RingproofError } from '../errors/ringproof-error.js';
import { UdpReplyPath } from './reply-path.js';
import type { UasCore } from './uas-core.js';

/** One bound UDP socket feeding datagrams to the UAS core. */
export class UdpListener {
  private socket: Socket | undefined;

  constructor(
    private readonly spec: ListenSpec,
    private readonly core: UasCore,
    private readonly onError: (err: Error) => void,
  ) {}

  async start(): Promise<void> {
    const socket = createSocket({ type: this.spec.family === 6 ? 'udp6' : 'udp4', ipv6Only: this.spec.family === 6 });
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void =>
        reject(new RingproofError(ErrorCodes.LISTEN_FAILED, `sip.listen: cannot bind ${this.spec.text}: ${err.message}`, { cause: err }));
      socket.once('error', fail);
      socket.bind(this.spec.port, this.spec.host, () => {
        socket.off('error', fail);
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
    socket.on('message', (data, rinfo) => {
      this.core.handle(data, new UdpReplyPath(socket, rinfo.address, rinfo.port), rinfo.address, rinfo.port);
    });
  }

  get port(): number {
    return this.socket?.address().port ?? this.spec.port;
  }

  async stop(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
