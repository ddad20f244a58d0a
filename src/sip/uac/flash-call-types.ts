import type { FailureClass, Q850Reason } from './failure-class.js';

/** One flash call to place: the number to ring and the caller ID that carries the code. */
export interface FlashCallRequest {
  /** E.164, "+" and digits. */
  to: string;
  /**
   * E.164 caller ID, or the caller ID to use on a trunk (each trunk has its own pool); a trunk that
   * gets undefined is skipped as `capacity` (its pool has nothing free).
   */
  cli: string | ((trunk: string) => string | undefined);
  /** Trunk names to try in order (failover); each must be configured. */
  trunks: readonly string[];
  /** Called as the attempt progresses; must not throw. */
  onEvent?: (e: FlashCallEvent) => void;
}

export type FlashCallEvent =
  | { type: 'placed'; trunk: string; callId: string }
  | { type: 'ringing'; trunk: string; status: number; postDialDelayMs: number };

/** What happened on one trunk (the attempt's SIP history). */
export interface TrunkAttempt {
  trunk: string;
  /** The caller ID sent. */
  cli: string;
  callId: string;
  /** Epoch ms the first INVITE left. */
  startedAt: number;
  /**
   * Provisional and final statuses received, in order (retransmissions once). The drachtio engine
   * never sees 100 Trying: drachtio-server keeps it.
   */
  statuses: number[];
  /** INVITE to the first 180/183, ms; undefined when it never rang. */
  postDialDelayMs: number | undefined;
  /** First 180/183 to our CANCEL (or to the final response), ms. */
  ringMs: number | undefined;
  /** The INVITE's final status; undefined = none (timer B, or no final within 64*T1 of our CANCEL). */
  finalStatus: number | undefined;
  reason: Q850Reason | undefined;
  cancelSent: boolean;
  /**
   * The status of our BYE after a 2xx; undefined when none was needed or it got no answer, or (drachtio
   * engine) when drachtio-server sent the ACK and BYE of a 2xx that crossed our CANCEL itself.
   */
  byeStatus: number | undefined;
  /** How this trunk's try ended. */
  outcome: FlashOutcome;
  failureClass: FailureClass | undefined;
}

/**
 * `rang`: a 180/183 arrived, we cancelled (the 487 proves it; cancelConfirmed false when no final came).
 * `answered`: a 2xx arrived (crossing our CANCEL or not); it was ACKed and BYEd at once. Billed.
 * `failed`: see the failure class.
 */
export type FlashOutcome = 'rang' | 'answered' | 'failed';

export interface FlashCallResult {
  outcome: FlashOutcome;
  failureClass: FailureClass | undefined;
  /** The trunk of the last attempt. */
  trunk: string | undefined;
  /** The caller ID of the last attempt; undefined when none was placed. */
  cli: string | undefined;
  cancelConfirmed: boolean;
  attempts: TrunkAttempt[];
}

/**
 * What places flash calls, whatever the SIP engine: the native engine's own UAC (NativeUac) or
 * drachtio-srf through a drachtio-server (DrachtioUac). The CLI and the API use only this.
 */
export interface FlashUac {
  /** True while calls can be placed (started; with drachtio, connected to drachtio-server). */
  readonly ready: boolean;
  /** Calls placed and not yet retired. */
  readonly callsInFlight: number;
  trunkNames(): string[];
  start(): Promise<void>;
  /** Ends every call in progress at once (outcome `failed`, class `network` if none yet) and closes. */
  stop(): Promise<void>;
  /**
   * Places one flash call, trying the request's trunks in order; the next trunk only when this one
   * (not the user) failed. Unknown trunk names are refused (RP_FLASH_TRUNK_UNKNOWN) before anything is sent.
   */
  place(req: FlashCallRequest): Promise<FlashCallResult>;
}
