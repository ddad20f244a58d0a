/**
 * The wire room: reading and writing SIP text (RFC 3261 §7, §20, §25), with no state and no I/O.
 * What the rest of ringproof may use; everything else in this folder is internal to it.
 */
export { fastAckKey } from './ack-fast-path.js';
export { buildResponse, type ResponseOptions } from './build-response.js';
export { hasTag } from './has-tag.js';
export { canonicalHeaderName } from './header-names.js';
export { parseNameAddr, type NameAddr } from './name-addr.js';
export { parseMessage, type ParseProblem, type ParseResult } from './parse-message.js';
export { SipMessage } from './sip-message.js';
export { hasServedScheme, isPlainNumber, parseUri, stripVisualSeparators, uriPhoneNumber, type SipUri } from './sip-uri.js';
export { splitHeaderValues } from './split-header-values.js';
export { isRfc3261Branch, parseTopVia, type TopVia } from './top-via.js';
