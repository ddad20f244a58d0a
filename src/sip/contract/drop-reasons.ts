/**
 * The catalogue of drop reasons: the `reason` label of ringproof_sip_drops_total. Every site that
 * counts a drop names one of these; the README's "Drop reasons" table lists them all (a test checks
 * both). Add new reasons here, never reuse a retired one: dashboards and alerts select on them.
 */
export const DropReasons = {
  /** A request from outside every trunk, with sip.unknownSource: drop. */
  UNKNOWN_SOURCE: 'unknown_source',
  /** A request whose User-Agent names a known SIP scanner. */
  SCANNER: 'scanner',
  /** A message over sip.maxMessageBytes (a datagram, or a TCP message the framer gave up on). */
  OVERSIZE: 'oversize',
  /** A message that cannot be read as SIP, or whose top Via cannot be read: nowhere to answer. */
  MALFORMED: 'malformed',
  /** A SIP response: ringproof sends no requests, so none is expected. */
  RESPONSE: 'response',
  /** An ACK that matches no transaction, or one too broken to match any. */
  STRAY_ACK: 'stray_ack',
  /** Timer H fired: the ACK for a final response never came (RFC 3261 §17.2.1). */
  ACK_TIMEOUT: 'ack_timeout',
  /** The transaction table is full: the INVITE was still rejected, statelessly. */
  TX_TABLE_FULL: 'tx_table_full',
  /** A TCP connection refused at sip.maxTcpConnections. */
  TCP_CONNECTION_LIMIT: 'tcp_connection_limit',
  /** drachtio engine: a response too large for drachtio-server's read buffer, not sent. */
  UNFRAMEABLE: 'unframeable',
  /** drachtio engine: a response drachtio-srf failed to send. */
  SEND_FAILED: 'send_failed',
  /** The edge could not turn an answered INVITE into a call event (logged with its error code). */
  CALL_EVENT_FAILED: 'call_event_failed',
  /** A request from a source the flood guard has banned (abuse.floodGuard), dropped silently. */
  FLOOD_BAN: 'flood_ban',
} as const;

export type DropReason = (typeof DropReasons)[keyof typeof DropReasons];
