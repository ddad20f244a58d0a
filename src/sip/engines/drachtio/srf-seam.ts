import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

/**
 * The narrow slice of drachtio-srf 5.0.x that ringproof uses, typed here because the bundled typings
 * are wrong where it matters: `connect()` returns the connect-app, not a promise of a connection; the
 * connection-lost event is `close` (`disconnect` is never emitted); `source_port` is a number.
 *
 * Two members reach past the public API, both read from drachtio-srf 5.0.29 and pinned by the unit
 * test that drives a real Srf over a real socket:
 * - `app.client.wp.send` and `mapServer[socket].pendingRequests`, to send wire-protocol pings and hear
 *   their pongs (srf's own pings never time out, so they cannot notice a wedged connection);
 * - `mapServer[socket].pendingNetworkInvites`, to forget an INVITE whose response we sent without the
 *   echoed Call-ID (srf keys that map by the response's Call-ID header).
 *
 * The UAC side (flash calls) uses only public members: `createUAC` with its progress callbacks,
 * `Request#cancel`, `Dialog#request` and `removeDialog`.
 */

/** drachtio-srf's lazily parsed SIP message (Srf.SipMessage). */
export interface SrfSipMessage {
  readonly raw?: string;
  method?: string;
  uri?: string;
  status?: number;
  reason?: string;
  /** Lowercase header names (X-/P- headers keep their case); repeated lines joined with ','. */
  headers: Record<string, string>;
  get(name: string): string | undefined;
  toString(): string;
}

/** An incoming request as drachtio-srf hands it to middleware. */
export interface SrfRequest {
  readonly method: string;
  readonly uri: string;
  readonly msg: SrfSipMessage;
  readonly source_address: string;
  /** A number in 5.0.x (parsed from the wire), despite the typings' string. */
  readonly source_port: number;
  /** "udp", "tcp", "tls", "ws", "wss" as drachtio-server reports the transport. */
  readonly protocol: string;
  readonly socket: Socket;
  get(name: string): string | undefined;
  on(event: 'cancel', fn: (cancel: SrfSipMessage) => void): unknown;
}

export interface SrfSendOptions {
  headers?: Record<string, string>;
}

export interface SrfResponse {
  readonly msg: SrfSipMessage;
  readonly finalResponseSent: boolean;
  send(status: number, opts?: SrfSendOptions): void;
}

export type SrfMiddleware = (req: SrfRequest, res: SrfResponse, next: (err?: unknown) => void) => void;

export interface SrfConnectOptions {
  host: string;
  port: number;
  secret: string;
  /** drachtio-srf's own ping timer; ringproof leaves it off and runs a ping with a deadline. */
  enablePing?: boolean;
  reconnect?: { retryMaxDelay: number };
}

/** Per-socket bookkeeping inside drachtio-srf's agent. */
export interface SrfServerEntry {
  pendingRequests: Map<string, (token: string[], raw?: string) => void>;
  pendingNetworkInvites: Map<string, unknown>;
}

export interface SrfWire {
  send(socket: Socket, msg: string): string;
  closing?: boolean;
  reconnectVars?: { retryTimer: NodeJS.Timeout | null };
}

export interface SrfAgent {
  readonly wp: SrfWire;
  readonly mapServer: Map<Socket, SrfServerEntry>;
}

/** A request we sent (createUAC's cbRequest), as drachtio-server echoed it. */
export interface SrfSentRequest {
  get(name: string): string | undefined;
  /** CANCEL this INVITE; drachtio-server holds it until a provisional response has arrived. */
  cancel(callback?: (err: Error | null) => void): void;
}

/** A response to a request we sent. */
export interface SrfUacResponse {
  readonly status: number;
  /** Repeated header lines come joined with ','. */
  get(name: string): string | undefined;
}

/** What createUAC rejects with: a SipError carrying the final response, or a plain error (no connection, …). */
export interface SrfUacError extends Error {
  status?: number;
  res?: SrfUacResponse;
  /** 'ENODIALOG' when drachtio-server no longer has the dialog. */
  code?: string;
}

/** The dialog a 2xx created. */
export interface SrfDialog {
  readonly id: string;
  request(opts: { method: 'BYE'; headers?: Record<string, string> }): Promise<SrfUacResponse>;
}

export interface SrfUacOptions {
  /** Next hop: drachtio-server sends the request here whatever the Request-URI says. */
  proxy: string;
  headers: Record<string, string>;
  localSdp: string | undefined;
}

export interface SrfUacProgress {
  cbRequest(err: Error | null, req: SrfSentRequest): void;
  cbProvisional(res: SrfUacResponse): void;
}

export interface SrfApp {
  /** Set once `connect()` ran. */
  readonly client?: SrfAgent;
}

export interface SrfInstance {
  readonly app: SrfApp;
  connect(opts: SrfConnectOptions): unknown;
  disconnect(): void;
  use(method: string, fn: SrfMiddleware): unknown;
  on(event: 'connect', fn: (err: Error | null, hostport?: string, serverVersion?: string) => void): unknown;
  on(event: 'close', fn: () => void): unknown;
  on(event: 'error', fn: (err: Error) => void): unknown;
  on(event: 'reconnecting', fn: (info: { delay: number; attempt: number }) => void): unknown;
  removeAllListeners(event?: string): unknown;
  /** Resolves with the dialog on a 2xx (ACKed by srf), rejects with the final response otherwise. */
  createUAC(uri: string, opts: SrfUacOptions, progress: SrfUacProgress): Promise<SrfDialog>;
  removeDialog(dialog: SrfDialog): void;
}

export interface SrfModule {
  new (): SrfInstance;
  SipMessage: new (raw: string) => SrfSipMessage;
}

const require = createRequire(import.meta.url);

/** drachtio-srf is CommonJS; load it once through require and view it through the seam. */
export function loadSrf(): SrfModule {
  return require('drachtio-srf') as SrfModule;
}
