import type { OutboundCredentials } from '../../config/config-types.js';
import type { SipMessage } from '../wire/index.js';
import { answerChallenge, pickChallenge } from './digest-auth.js';
import { AttemptTracker } from './attempt-tracker.js';
import { parseQ850 } from './failure-class.js';
import type { FlashCallEvent, TrunkAttempt } from './flash-call-types.js';
import { Retransmitter } from './retransmitter.js';
import {
  buildCancel, buildInDialog, buildInvite, buildNon2xxAck, type CallIdentity, type Dialog, newBranch,
} from './uac-requests.js';

/** What one call needs from the UAC around it. */
export interface FlashCallContext {
  trunk: string;
  cli: string;
  identity: CallIdentity;
  sdp: string | undefined;
  credentials: OutboundCredentials | undefined;
  t1Ms: number;
  t2Ms: number;
  /** TCP: no retransmissions, no timer D. */
  reliable: boolean;
  minRingMs: number;
  ringTimeoutMs: number;
  /** Sends one request to the trunk's next hop; false when the path is gone. */
  send(text: string): boolean;
  onEvent: ((e: FlashCallEvent) => void) | undefined;
  /** The try ended (outcome known); the call may stay registered a while to absorb retransmissions. */
  onOutcome(attempt: TrunkAttempt): void;
  /** Nothing more can arrive for this call: unregister it. */
  onRetired(): void;
}

 /** A URI we will write back as a Request-URI: sip(s), no whitespace, quotes or angle brackets. */
const SAFE_URI = /^sips?:[^\s<>"]+$/i;
const SAFE_ROUTE = /^<sips?:[^\s<>"]+>[^\s<>"]*$/i;

/** The URI of a 2xx's Contact (the dialog's remote target), or undefined when it is not usable. */
function contactUri(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  const lt = v.indexOf('<');
  const uri = lt >= 0 ? v.slice(lt + 1, v.indexOf('>', lt)) : (v.split(';')[0] as string);
  return SAFE_URI.test(uri) ? uri : undefined;
}

/** Every line of one header as written: challenges hold commas, so they are not split as list values. */
function headerLines(msg: SipMessage, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < msg.names.length; i++) if (msg.names[i] === name) out.push(msg.values[i] as string);
  return out;
}

/** The tag parameter of a To header value ("" when none). */
function toTag(to: string | undefined): string {
  return /;\s*tag\s*=\s*([^;\s]+)/i.exec(to ?? '')?.[1] ?? '';
}

type State = 'calling' | 'proceeding' | 'completed' | 'answered' | 'done';

/**
 * One flash call on one trunk: the INVITE client transaction (RFC 3261 §17.1.1), digest
 * authentication, the CANCEL after a ring (§9.1: never before a provisional response), the ACK of
 * the final response, and for a 2xx (the phone was answered, usually crossing our CANCEL) the ACK
 * and an immediate BYE. Exactly one onOutcome per call.
 */
export class FlashCall {
  private readonly t: AttemptTracker;
  private state: State = 'calling';
  private cseq = 1;
  private branch = newBranch();
  private authTried = false;
  private invite: Retransmitter | undefined;
  private cancel: Retransmitter | undefined;
  /** Our ring timeout fired before any provisional response: CANCEL as soon as one arrives. */
  private cancelWanted = false;
  private lastAck: string | undefined;
  /**
   * Every dialog a 2xx created, by To tag: a forking proxy may deliver 2xx from several phones, and
   * each is ACKed and BYEd. `bye` runs until its final response or timer F.
   */
  private readonly dialogs = new Map<string, { ack: string; bye: Retransmitter | undefined }>();
  private firstTag: string | undefined;
  /** The 2xx's 64*T1 of re-ACKing is over: retire as soon as the BYE is done. */
  private lingerDone = false;

  constructor(private readonly ctx: FlashCallContext) {
    this.t = new AttemptTracker(ctx.trunk, ctx.cli, '', ctx.onEvent, ctx.onOutcome);
  }

  get attempt(): TrunkAttempt {
    return this.t.attempt;
  }

  start(): void {
    this.t.started();
    this.sendInvite('');
    this.t.after(this.ctx.ringTimeoutMs, () => this.ringTimeout());
    this.t.placed(this.ctx.identity.callId);
  }

  /** The trunk's connection could not be made or broke before any response. */
  transportFailed(): void {
    if (this.state === 'calling') this.t.end('failed', 'network', undefined);
  }

  onResponse(msg: SipMessage): void {
    const status = msg.status;
    if (!Number.isInteger(status) || status < 100) return;
    if (msg.cseqMethod === 'INVITE') {
      if (msg.cseqNum !== this.cseq) {
        // A retransmitted final response of the INVITE we re-sent with credentials: ACK it again.
        if (status >= 300 && this.lastAck !== undefined && msg.cseqNum === this.cseq - 1) this.ctx.send(this.lastAck);
        return;
      }
      if (status < 200) this.provisional(msg);
      else if (status < 300) this.answered(msg);
      else this.final(msg);
    } else if (msg.cseqMethod === 'CANCEL' && status >= 200) {
      this.cancel?.stop();
    } else if (msg.cseqMethod === 'BYE' && status >= 200) {
      this.byeDone(toTag(msg.to), status);
    }
  }

  /** Stop everything at once (shutdown). */
  abort(): void {
    for (const d of this.dialogs.values()) {
      d.bye?.stop();
      d.bye = undefined;
    }
    this.t.end('failed', 'network', undefined);
    this.retire();
  }

  private provisional(msg: SipMessage): void {
    if (this.state !== 'calling' && this.state !== 'proceeding') return;
    const s = msg.status;
    const firstRing = this.t.provisional(s);
    if (this.state === 'calling') {
      this.state = 'proceeding';
      // Timer A and B belong to the Calling state only (§17.1.1.2).
      this.invite?.stop();
    }
    if (firstRing) {
      if (this.ctx.minRingMs === 0) this.sendCancel();
      else this.t.after(this.ctx.minRingMs, () => this.sendCancel());
    }
    if (this.cancelWanted) this.sendCancel();
  }

  private ringTimeout(): void {
    if (this.state === 'proceeding') this.sendCancel();
    else if (this.state === 'calling') this.cancelWanted = true;
  }

  private sendCancel(): void {
    if (this.state !== 'proceeding' || this.attempt.cancelSent) return;
    this.t.cancelled();
    const text = buildCancel(this.ctx.identity, this.branch, this.cseq);
    this.cancel = new Retransmitter(() => this.ctx.send(text), {
      t1Ms: this.ctx.t1Ms, capMs: this.ctx.t2Ms, reliable: this.ctx.reliable, onTimeout: () => undefined,
    });
    this.cancel.start();
    // §9.1: no final response within 64*T1 of the CANCEL and the INVITE transaction is given up.
    this.t.after(64 * this.ctx.t1Ms, () => {
      if (this.state === 'proceeding') this.t.endBy(undefined);
    });
  }

  private final(msg: SipMessage): void {
    const s = msg.status;
    if (this.state === 'completed' || this.state === 'done' || this.state === 'answered') {
      // A retransmission of the final response: our ACK was lost (§17.1.1.2).
      if (this.lastAck !== undefined && this.state === 'completed') this.ctx.send(this.lastAck);
      return;
    }
    this.attempt.statuses.push(s);
    this.invite?.stop();
    this.lastAck = buildNon2xxAck(this.ctx.identity, this.branch, this.cseq, msg.to ?? this.ctx.identity.to);
    this.ctx.send(this.lastAck);
    if ((s === 401 || s === 407) && !this.authTried && this.ctx.credentials !== undefined && !this.attempt.cancelSent) {
      const ch = pickChallenge(headerLines(msg, s === 401 ? 'www-authenticate' : 'proxy-authenticate'), this.ctx.credentials.realm);
      if (ch !== undefined) {
        this.authTried = true;
        const answer = answerChallenge(ch, this.ctx.credentials, 'INVITE', this.ctx.identity.requestUri);
        this.cseq++;
        this.branch = newBranch();
        this.state = 'calling';
        this.sendInvite(`${s === 401 ? 'Authorization' : 'Proxy-Authorization'}: ${answer.value}\r\n`);
        return;
      }
    }
    this.state = 'completed';
    this.attempt.finalStatus = s;
    this.attempt.reason = parseQ850(msg.headerValues('reason'));
    this.t.endBy(s);
    this.cancel?.stop();
    // Timer D: absorb retransmissions of the final response (32 s over UDP, none over TCP).
    if (this.ctx.reliable) this.retire();
    else this.t.after(Math.max(32_000, 64 * this.ctx.t1Ms), () => this.retire());
  }

  private answered(msg: SipMessage): void {
    const tag = toTag(msg.to);
    const known = this.dialogs.get(tag);
    if (known !== undefined) {
      // The 2xx is retransmitted until our ACK arrives (§13.3.1.4): ACK it again.
      this.ctx.send(known.ack);
      return;
    }
    if (this.state === 'done') return;
    if (this.state !== 'answered') {
      this.t.answered(msg.status);
      this.state = 'answered';
      this.invite?.stop();
      this.cancel?.stop();
      this.firstTag = tag;
      // 2xx retransmissions stop once our ACK arrives; keep re-ACKing for 64*T1.
      this.t.after(64 * this.ctx.t1Ms + 100, () => {
        this.lingerDone = true;
        this.retire();
      });
    }
    const rr = msg.headerValues('record-route').filter((r) => SAFE_ROUTE.test(r));
    const dialog: Dialog = {
      remoteTarget: contactUri(msg.header('contact')) ?? this.ctx.identity.requestUri,
      routeLines: [...rr].reverse().map((r) => `Route: ${r}\r\n`).join(''),
      toWithTag: msg.to ?? this.ctx.identity.to,
    };
    const ack = buildInDialog(this.ctx.identity, dialog, 'ACK', this.cseq);
    this.ctx.send(ack);
    const byeText = buildInDialog(this.ctx.identity, dialog, 'BYE', this.cseq + 1);
    const bye = new Retransmitter(() => this.ctx.send(byeText), {
      t1Ms: this.ctx.t1Ms, capMs: this.ctx.t2Ms, reliable: this.ctx.reliable,
      onTimeout: () => this.byeDone(tag, undefined),
    });
    this.dialogs.set(tag, { ack, bye });
    bye.start();
  }

  /** A BYE got its final response (or none by timer F): the first dialog's decides the outcome record. */
  private byeDone(tag: string, status: number | undefined): void {
    const d = this.dialogs.get(tag);
    if (d?.bye === undefined) return;
    d.bye.stop();
    d.bye = undefined;
    if (tag === this.firstTag) this.t.byeDone(status);
    if (this.lingerDone) this.retire();
  }

  private sendInvite(authLine: string): void {
    const text = buildInvite(this.ctx.identity, this.branch, this.cseq, this.ctx.sdp, authLine);
    this.invite = new Retransmitter(() => {
      if (!this.ctx.send(text)) this.transportFailed();
    }, {
      t1Ms: this.ctx.t1Ms, capMs: undefined, reliable: this.ctx.reliable,
      onTimeout: () => {
        // Timer B: no response at all. With our ring timeout passed, this is the §9.1 give-up too.
        if (this.state === 'calling') {
          this.t.end('failed', 'unreachable', undefined);
          this.retire();
        }
      },
    });
    this.invite.start();
  }

  private retire(): void {
    if (this.state === 'done') return;
    // A BYE transaction still runs: its end retires us.
    for (const d of this.dialogs.values()) if (d.bye !== undefined) return;
    this.state = 'done';
    this.invite?.stop();
    this.cancel?.stop();
    this.t.clearTimers();
    this.ctx.onRetired();
  }
}
