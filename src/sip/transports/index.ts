/**
 * The transports room: UDP and TCP listeners, stream framing, reply paths back to the source and the
 * latin1 encoding of outgoing text. Listeners hand each message to a MessageHandler.
 */
export { Latin1Slab } from './latin1-slab.js';
export type { MessageHandler } from './message-handler.js';
export type { ReplyPath } from './reply-path.js';
export { StreamFramer } from './stream-framer.js';
export { TcpListener } from './tcp-listener.js';
export { UdpListener } from './udp-listener.js';
