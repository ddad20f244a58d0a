import type { Logger } from 'pino';
import type { SipConfig, SipTransport } from '../../config/config-types.js';
import { type InviteTransaction, ToTagGenerator, transactionKey, TransactionTable, TxState } from '../transactions/index.js';
import { buildResponse, fastAckKey, hasServedScheme, hasTag, parseMessage, parseTopVia, type SipMessage, type TopVia } from '../wire/index.js';
import { Latin1Slab, type ReplyPath } from '../transports/index.js';
import { DropReasons, type EdgeHandler } from '../contract/index.js';
import { ErrorCodes } from '../../errors/codes.js';
import type { SipCounters } from '../../metrics/sip-counters.js';
import { detachString } from '../../v8/detach-string.js';
import { ALLOW, hopsExhausted, OPTIONS_ACCEPT, rejectReason, unservedMethodCode } from './response-policy.js';

const ALLOW_LINE = `Allow: ${ALLOW}\r\n`;
const OPTIONS_EXTRA = `${ALLOW_LINE}Accept: ${OPTIONS_ACCEPT}\r\n`;
const ANY_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/**
 * The UAS logic of the native engine, independent of sockets: one call per received message.
 * Every INVITE gets the edge's reject at once; no 1xx or 2xx is ever sent to an INVITE.
 *
 * The hops of one INVITE:
 *   transports/udp-listener (or tcp-listener + stream-framer) → handle()
 *   → wire/parse-message, wire/top-via                    read the request
 *   → EdgeHandler.admit()                                 trunk ACL, scanners: accept, forbid or drop
 *   → request checks, response-policy.ts                  505/400/483/416, methods other than INVITE
 *   → invite(): transactions/transaction-key, the table   retransmission? (answer again or absorb)
 *     decide (reject code, or 420) → send (wire/build-response, reply path)
 *     → record (TransactionTable.open: timers G/H, then I once ACKed) → publish (EdgeHandler.onInviteAnswered)
 * and of its ACK: handle() → fastAck() (or the full path → ack()) → TransactionTable.confirm().
 */
export class UasCore {
  readonly transactions: TransactionTable;
  private readonly tags = new ToTagGenerator();
  private readonly slab = new Latin1Slab();
  private readonly serverLine: string;
  private readonly timeOrigin = performance.timeOrigin;
  private handler: EdgeHandler | undefined;
  private readonly reasonLines = new Map<number, string>();

  constructor(
    private readonly cfg: SipConfig,
    private readonly counters: SipCounters,
    private readonly logger: Logger,
  ) {
    this.serverLine = cfg.serverHeader ? `Server: ${cfg.serverHeader}\r\n` : '';
    this.transactions = new TransactionTable(cfg, {
      retransmit: (tx) => {
        tx.reply.send(this.slab.encode(tx.response));
        this.counters.retransmission('response_out', tx.reply.transport);
        this.counters.response(tx.code, tx.reply.transport);
      },
      retransmitShed: (tx) => this.counters.retransmission('response_out_shed', tx.reply.transport),
      ackTimeout: (tx) => this.counters.drop(DropReasons.ACK_TIMEOUT, tx.reply.transport),
    });
  }

  start(handler: EdgeHandler): void {
    this.handler = handler;
    this.transactions.start();
  }

  stop(): void {
    this.transactions.stop();
    this.transactions.clear();
  }

  /** One received SIP message (a UDP datagram or a TCP-framed message). Never throws. */
  handle(data: Buffer, reply: ReplyPath, address: string, port: number): void {
    const t0 = performance.now();
    const transport = reply.transport;
    const handler = this.handler;
    if (!handler) return;
    if (data.length > this.cfg.maxMessageBytes) {
      this.counters.drop(DropReasons.OVERSIZE, transport);
      return;
    }
    let text: string;
    let parsed;
    try {
      text = data.toString('latin1');
      if (text.charCodeAt(0) === 65 /* A */ && this.fastAck(text, transport, t0)) return;
      parsed = parseMessage(text);
    } catch (err) {
      this.logger.warn({ err, code: ErrorCodes.SIP_PARSE }, 'SIP parser failed on a message; dropped');
      this.counters.drop(DropReasons.MALFORMED, transport);
      return;
    }
    const { msg, problem } = parsed;
    if (!msg.isRequest) {
      this.counters.drop(DropReasons.RESPONSE, transport);
      return;
    }
    const top = problem === 'unparseable' ? undefined : parseTopVia(msg.via[0] as string);
    if (!top) {
      this.counters.drop(DropReasons.MALFORMED, transport);
      return;
    }
    msg.source = { address, port, transport };
    msg.receivedAt = this.timeOrigin + t0;
    const method = msg.method;

    if (method === 'ACK') {
      // ACKs are never answered. One for our final response ends its retransmissions.
      if (problem === undefined) return this.ack(transactionKey(top, msg), msg.callId, transport, t0);
      this.counters.request('ACK', transport, 'none');
      this.counters.drop(DropReasons.STRAY_ACK, transport);
      return;
    }

    const decision = handler.admit(msg.source, method, msg.userAgent);
    if (decision.kind === 'drop') {
      this.counters.drop(decision.reason, transport);
      return;
    }
    if (decision.kind === 'forbid') {
      this.counters.request(method, transport, 'unknown');
      this.respond(msg, top, reply, 403, '');
      return;
    }
    const trunk = decision.trunk;
    this.counters.request(method, transport, trunk);

    if (problem === 'version') return this.respond(msg, top, reply, 505, '');
    if (problem === 'bad_request' || !top.wellFormed) return this.respond(msg, top, reply, 400, '');
    // A datagram shorter than its Content-Length was truncated somewhere: RFC 3261 §18.3 says 400.
    if (transport === 'udp' && msg.contentLength !== undefined && text.length - msg.bodyStart < msg.contentLength) {
      return this.respond(msg, top, reply, 400, '');
    }
    if (hopsExhausted(method, msg.maxForwards)) return this.respond(msg, top, reply, 483, '');

    // We only serve SIP and tel URIs (RFC 3261 §8.2.2.1); what is not a URI at all is a 400.
    if (!hasServedScheme(msg.requestUri)) return this.respond(msg, top, reply, ANY_SCHEME.test(msg.requestUri) ? 416 : 400, '');

    switch (method) {
      case 'INVITE':
        // An INVITE inside a dialog we never made (To-tag present) is not a new call (§12.2.2).
        if (msg.to !== undefined && hasTag(msg.to)) return this.respond(msg, top, reply, 481, '');
        return this.invite(msg, top, reply, trunk, decision.rejectCode, t0);
      case 'OPTIONS':
        return this.respond(msg, top, reply, 200, OPTIONS_EXTRA);
      case 'CANCEL': {
        // The INVITE was answered at once, so CANCEL only learns whether we know it (RFC 3261 §9.2);
        // its 200 carries the INVITE response's To-tag.
        const key = transactionKey(top, msg);
        const known = this.transactions.get(key) !== undefined || this.isConfirmed(msg.callId, key);
        return this.respond(msg, top, reply, known ? 200 : 481, '', known ? this.tags.tagFor(key) : undefined);
      }
      case 'BYE':
        return this.respond(msg, top, reply, 481, '');
      default: {
        const code = unservedMethodCode(method);
        return this.respond(msg, top, reply, code, code === 405 ? ALLOW_LINE : '');
      }
    }
  }

  /**
   * A new or retransmitted INVITE, past the request checks: decide → send → record → publish.
   * A retransmission (live or confirmed transaction) is answered from the transaction, or absorbed.
   */
  private invite(msg: SipMessage, top: TopVia, reply: ReplyPath, trunk: string, rejectCode: number, t0: number): void {
    const transport = reply.transport;
    const key = transactionKey(top, msg);
    const known = this.transactions.get(key);
    if (known) return this.inviteAgain(known, reply);
    // Detached once, before the confirmed lookup: the same string object then serves the
    // fingerprint memo (identity, not a character compare), both Map operations and the
    // transaction, which keeps it without the datagram's text.
    const callId = detachString(msg.callId);
    const confirmed = this.transactions.confirmedLookup(callId, key);
    if (confirmed.kind === 'confirmed') {
      // Its ACK came already (Confirmed): absorbed, not answered (RFC 3261 §17.2.1).
      this.counters.retransmission('request_in', transport);
      return;
    }
    const liveCalls = this.transactions.liveCalls(callId);

    // Decide. Extensions the caller requires cannot be honoured: 420 (RFC 3261 §8.2.2.3). The call
    // still happened, so it is still a CallEvent.
    const required = msg.header('require');
    const unsupported = required !== undefined && required.trim() !== '';
    const code = unsupported ? 420 : rejectCode;
    // Send.
    const response = buildResponse(msg, top, {
      code,
      toTag: this.tags.tagFor(key),
      extraHeaders: unsupported ? `Unsupported: ${required}\r\n` : this.reasonLine(code),
      serverLine: this.serverLine,
    });
    reply.send(this.slab.encode(response));
    const now = performance.now();
    this.counters.response(code, transport);
    this.counters.inviteToFinal((now - t0) / 1000, transport);
    // Record. Past the bound we still reject, statelessly: no retransmission, no ACK matching.
    if (this.transactions.full) this.counters.drop(DropReasons.TX_TABLE_FULL, transport);
    else this.transactions.open({ key, callId, trunk, response, code, reply }, now, liveCalls);
    // Publish, once per call: a new branch of a call already live or confirmed is the same call.
    if (liveCalls > 0 || confirmed.kind === 'same_call') {
      this.counters.retransmission('duplicate_call', transport);
      return;
    }
    this.handler?.onInviteAnswered(msg, trunk, code);
  }

  /**
   * A retransmitted INVITE of a live transaction. Completed: the same bytes again (timer G's job
   * too), on the path this copy came by (a TCP peer may have reconnected). Confirmed: absorbed
   * (RFC 3261 §17.2.1).
   */
  private inviteAgain(known: InviteTransaction, reply: ReplyPath): void {
    this.counters.retransmission('request_in', reply.transport);
    if (known.state !== TxState.Completed) return;
    reply.send(this.slab.encode(known.response));
    this.counters.response(known.code, reply.transport);
  }

  /** "Reason: ..." for a reject code, built once per code (codes come from configuration). */
  private reasonLine(code: number): string {
    let line = this.reasonLines.get(code);
    if (line === undefined) {
      line = `Reason: ${rejectReason(code)}\r\n`;
      this.reasonLines.set(code, line);
    }
    return line;
  }

  private respond(msg: SipMessage, top: TopVia, reply: ReplyPath, code: number, extra: string, toTag?: string): void {
    const text = buildResponse(msg, top, {
      code,
      toTag: toTag ?? this.tags.tagFor(`${msg.callId}|${top.branch ?? msg.cseq ?? ''}`),
      extraHeaders: extra,
      serverLine: this.serverLine,
    });
    reply.send(this.slab.encode(text));
    this.counters.response(code, reply.transport);
  }

  /**
   * A well-formed ACK: it ends its transaction's retransmissions, is a retransmission absorbed by a
   * confirmed transaction, or is a stray. Never answered.
   */
  private ack(key: string, callId: string, transport: SipTransport, t0: number): void {
    const tx = this.transactions.get(key);
    if (tx !== undefined) return this.confirm(tx, transport, t0);
    const confirmed = this.transactions.confirmedLookup(callId, key);
    if (confirmed.kind === 'confirmed') {
      this.counters.request('ACK', transport, confirmed.trunk);
      return;
    }
    this.counters.request('ACK', transport, 'none');
    this.counters.drop(DropReasons.STRAY_ACK, transport);
  }

  private isConfirmed(callId: string, key: string): boolean {
    return this.transactions.confirmedLookup(callId, key).kind === 'confirmed';
  }

  /**
   * Half of all datagrams under load are the ACKs for our rejects: a plain ACK for a live
   * transaction needs only its key, read straight from the text (wire/ack-fast-path.ts). True when
   * it was that and is done; anything unusual, and an ACK that matches no live transaction, takes
   * the full path.
   */
  private fastAck(text: string, transport: SipTransport, t0: number): boolean {
    const key = fastAckKey(text);
    if (key === undefined) return false;
    const tx = this.transactions.get(key);
    if (tx === undefined) return false;
    this.confirm(tx, transport, t0);
    return true;
  }

  private confirm(tx: InviteTransaction, transport: SipTransport, t0: number): void {
    this.counters.request('ACK', transport, tx.trunk);
    this.transactions.confirm(tx, t0);
  }
}

export type { SipTransport };
