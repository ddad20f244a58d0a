import type { SipTransport } from '../../config/config-types.js';
import type { UdpSendQueue } from './udp-send-queue.js';

/**
 * Where responses to one request go: always back to the request's source (the UDP source address
 * and port, or the same TCP connection), never to a Via host or maddr, so ringproof cannot be used to
 * reflect traffic at a third party.
 */
export interface ReplyPath {
  readonly transport: SipTransport;
  /** False when the path is gone (TCP connection closed). */
  send(data: Buffer): boolean;
}

export class UdpReplyPath implements ReplyPath {
  readonly transport = 'udp' as const;
  constructor(
    private readonly queue: UdpSendQueue,
    private readonly address: string,
    private readonly port: number,
  ) {}

  send(data: Buffer): boolean {
    // Sent at the end of this event-loop turn (udp-send-queue.ts). A failed UDP send is a lost
    // datagram, which timer G covers for final responses.
    this.queue.push(data, this.port, this.address);
    return true;
  }
}
