// Types for drachtio-server.mjs (plain JavaScript, shared by the bench and the drachtio test suite).
export declare const DRACHTIO_BIN_ENV: 'RINGPROOF_DRACHTIO_BIN';
export declare function defaultDrachtioBins(): string[];
export declare function findDrachtioBinary(env?: NodeJS.ProcessEnv): string | undefined;

export interface StartedDrachtioServer {
  readonly pid: number;
  readonly admin: { host: string; port: number; secret: string };
  readonly sip: { host: string; port: number };
  /** "host:port:secret" */
  readonly target: string;
  readonly dir: string;
  readonly logFile: string;
  readonly running: boolean;
  stop(opts?: { keepLogs?: boolean }): Promise<void>;
}

export declare function startDrachtioServer(opts: {
  binary: string;
  host?: string;
  sofiaLogLevel?: number;
  logLevel?: string;
  startTimeoutMs?: number;
}): Promise<StartedDrachtioServer>;
