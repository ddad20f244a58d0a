import type { OutboundTrunkConfig } from '../../../config/config-types.js';
import {
  answerChallenge, AttemptTracker, type FlashCallEvent, parseQ850, pickChallenge, type TrunkAddressing, type TrunkAttempt,
  type TrunkHop, trunkAddressing,
} from '../../uac/index.js';
import { splitHeaderValues } from '../../wire/index.js';
import type { SrfDialog, SrfInstance, SrfSentRequest, SrfUacError, SrfUacResponse } from './srf-seam.js';

/** What one drachtio flash call needs from the UAC around it. */
export interface DrachtioCallContext {
  srf: SrfInstance;
  trunk: OutboundTrunkConfig;
  hop: TrunkHop;
  to: string;
  cli: string;
  sdp: string | undefined;
  /** Our T1: no final response within 64*T1 of our CANCEL ends the attempt (RFC 3261 §9.1). */
  t1Ms: number;
  minRingMs: number;
  ringTimeoutMs: number;
  onEvent: ((e: FlashCallEvent) => void) | undefined;
  /** The INVITE left (drachtio-server echoed it): the trunk gate counts the call from here. */
  sent(): void;
  /** The try ended (outcome known); exactly once. */
  onOutcome(attempt: TrunkAttempt): void;
  /** Nothing more will happen for this call. */
  onRetired(): void;
}

const hostText = (ip: string): string => (ip.includes(':') ? `[${ip}]` : ip);

/**
 * One flash call on one trunk through drachtio-srf's createUAC. drachtio-server owns the INVITE
 * client transaction (retransmissions, timer B, the ACK of non-2xx responses) and holds a CANCEL back
 * until a provisional response has arrived (§9.1); this class decides when to CANCEL (minRingMs after
 * the first 180/183, or at our ring timeout), answers 401/407 challenges with ringproof's own digest
 * code (drachtio-srf's answers MD5 only), and ends a 2xx with an immediate BYE. A 2xx that crosses
 * our CANCEL is ACKed and BYEd by drachtio-server itself.
 */
export class DrachtioFlashCall {
  private readonly t: AttemptTracker;
  private readonly addressing: TrunkAddressing;
  private readonly proxy: string;
  private req: SrfSentRequest | undefined;
  /** Our ring timeout fired before drachtio-server echoed the INVITE: CANCEL once it does. */
  private cancelWanted = false;
  private authTried = false;
  private finalSeen = false;
  private retired = false;

  constructor(private readonly ctx: DrachtioCallContext) {
    this.t = new AttemptTracker(ctx.trunk.name, ctx.cli, '', ctx.onEvent, ctx.onOutcome);
    this.addressing = trunkAddressing(ctx.trunk, ctx.to, ctx.cli);
    const h = ctx.hop;
    this.proxy = `sip:${hostText(h.ip)}:${h.port}${h.transport === 'tcp' ? ';transport=tcp' : ''}`;
  }

  get attempt(): TrunkAttempt {
    return this.t.attempt;
  }

  start(): void {
    this.t.started();
    const a = this.addressing;
    const headers: Record<string, string> = { From: `<${a.fromUri}>`, To: a.to, 'User-Agent': 'ringproof' };
    if (a.pai !== undefined) headers['P-Asserted-Identity'] = a.pai;
    // No Route for an outbound proxy: drachtio-server drops an application's Route header; `proxy` alone sends there.
    this.invite(headers);
    this.t.after(this.ctx.ringTimeoutMs, () => this.cancel());
  }

  /** The drachtio-server connection is gone, or the UAC stops: end now (a CANCEL first, if the link still carries one). */
  abort(): void {
    this.cancel();
    this.t.end('failed', 'network', undefined);
    this.retire();
  }

  private invite(headers: Record<string, string>): void {
    this.ctx.srf
      .createUAC(this.addressing.requestUri, { proxy: this.proxy, headers, localSdp: this.ctx.sdp }, {
        cbRequest: (err, req) => this.onSent(err, req),
        cbProvisional: (res) => this.onProvisional(res),
      })
      .then((dialog) => this.onAnswered(dialog), (err: SrfUacError) => this.onFailed(err, headers));
  }

  private onSent(err: Error | null, req: SrfSentRequest): void {
    if (err || this.retired) return; // createUAC rejects too: onFailed decides
    this.req = req;
    if (this.attempt.callId === '') {
      this.ctx.sent();
      this.t.placed(req.get('call-id') ?? '');
    }
    if (this.cancelWanted) this.cancel();
  }

  private onProvisional(res: SrfUacResponse): void {
    if (this.finalSeen || !this.t.provisional(res.status)) return;
    if (this.ctx.minRingMs === 0) this.cancel();
    else this.t.after(this.ctx.minRingMs, () => this.cancel());
  }

  /**
   * Our CANCEL, once. Before any provisional response drachtio-server holds it (it goes on the wire
   * with the first 1xx, or never), so unlike the native UAC we need not wait for one we cannot see:
   * drachtio-server keeps 100 Trying to itself.
   */
  private cancel(): void {
    if (this.finalSeen || this.attempt.cancelSent || this.retired) return;
    const req = this.req;
    if (req === undefined) {
      this.cancelWanted = true;
      return;
    }
    this.t.cancelled();
    try {
      req.cancel(() => undefined);
    } catch {
      // The request is gone with its connection: abort() follows.
    }
    // §9.1: no final response within 64*T1 of the CANCEL and the INVITE is given up.
    this.t.after(64 * this.ctx.t1Ms, () => {
      if (!this.finalSeen) this.t.endBy(undefined);
      this.retire();
    });
  }

  private onFailed(err: SrfUacError, headers: Record<string, string>): void {
    const res = err.res;
    if (this.finalSeen) return;
    if (typeof err.status !== 'number' || res === undefined) {
      // Not a SIP answer: drachtio-server could not take the request (connection lost, bad socket).
      this.finalSeen = true;
      this.t.end('failed', 'network', undefined);
      this.retire();
      return;
    }
    const s = err.status;
    this.attempt.statuses.push(s);
    const creds = this.ctx.trunk.credentials;
    const sent = this.req;
    if ((s === 401 || s === 407) && !this.authTried && creds !== undefined && !this.attempt.cancelSent && !this.retired && sent !== undefined) {
      const ch = pickChallenge([res.get(s === 401 ? 'www-authenticate' : 'proxy-authenticate') ?? ''], creds.realm);
      if (ch !== undefined) {
        this.authTried = true;
        // The same call again (Call-ID, From tag), CSeq + 1, with our answer; drachtio-server ACKed the challenge.
        const cseq = Number.parseInt(sent.get('cseq') ?? '', 10);
        const answer = answerChallenge(ch, creds, 'INVITE', this.addressing.requestUri);
        this.req = undefined;
        this.invite({
          ...headers,
          From: sent.get('from') ?? (headers.From as string),
          'Call-ID': this.attempt.callId,
          CSeq: `${Number.isFinite(cseq) ? cseq + 1 : 2} INVITE`,
          [s === 401 ? 'Authorization' : 'Proxy-Authorization']: answer.value,
        });
        return;
      }
    }
    this.finalSeen = true;
    this.attempt.reason = parseQ850(splitHeaderValues(res.get('reason') ?? ''));
    this.t.endBy(s);
    this.retire();
  }

  private onAnswered(dialog: SrfDialog): void {
    if (!this.finalSeen && !this.t.outcomeKnown) this.t.answered(200);
    this.finalSeen = true;
    // A BYE at once, whether or not the outcome is known already: no dialog is left open.
    dialog.request({ method: 'BYE' }).then(
      (res) => this.byeDone(res.status),
      () => {
        // ENODIALOG: the 2xx crossed our CANCEL and drachtio-server sent the ACK and BYE itself.
        // Anything else: the BYE could not be sent or got no answer. Either way srf forgets the dialog.
        this.ctx.srf.removeDialog(dialog);
        this.byeDone(undefined);
      },
    );
  }

  private byeDone(status: number | undefined): void {
    this.t.byeDone(status);
    this.retire();
  }

  private retire(): void {
    if (this.retired) return;
    this.retired = true;
    this.t.clearTimers();
    this.ctx.onRetired();
  }
}
