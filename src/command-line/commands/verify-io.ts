/**
 * Everything the verify commands touch outside themselves, injectable so tests run them in-process
 * against a real server and read what they print.
 */
export interface VerifyIo {
  /** Writes one line (a newline is added). */
  out(line: string): void;
  err(line: string): void;
  env: Readonly<Record<string, string | undefined>>;
  fetch: typeof fetch;
  sleep(ms: number): Promise<void>;
  now(): number;
  setExitCode(code: number): void;
}

export const EXIT_OK = 0;
/** The session ended without being verified (expired, cancelled, blocked). */
export const EXIT_NOT_VERIFIED = 1;
/** The API refused the request or could not be reached. */
export const EXIT_API_ERROR = 2;

/** The process's real streams and environment; only the CLI entry point uses this. */
export function processVerifyIo(): VerifyIo {
  return {
    out: (line) => { process.stdout.write(`${line}\n`); },
    err: (line) => { process.stderr.write(`${line}\n`); },
    env: process.env,
    fetch: globalThis.fetch,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: () => Date.now(),
    setExitCode: (code) => { process.exitCode = code; },
  };
}
