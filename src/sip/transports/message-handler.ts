import type { ReplyPath } from './reply-path.js';

/**
 * What a listener hands every received message to (the UAS core). An interface, so the transports
 * sit below the UAS core and know nothing of it.
 */
export interface MessageHandler {
  /** One received SIP message (a UDP datagram or a TCP-framed message). Must never throw. */
  handle(data: Buffer, reply: ReplyPath, address: string, port: number): void;
}
