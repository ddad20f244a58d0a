import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/config-types.js';
import { maskNumber } from './mask.js';

export type { Logger };

/** Keys whose values are phone numbers; pino's redaction masks them even if a caller forgets. */
const NUMBER_PATHS = [
  'cli', 'did', 'cliRaw', 'didRaw', 'phoneNumber', 'callTo', 'number',
  '*.cli', '*.did', '*.cliRaw', '*.didRaw', '*.phoneNumber', '*.callTo', '*.number',
];

export interface LoggerOptions {
  level: LogLevel;
  /** Destination stream; defaults to stdout. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      level: opts.level,
      base: { service: 'ringproof' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: NUMBER_PATHS, censor: maskForRedact },
    },
    opts.destination ?? process.stdout,
  );
}

function maskForRedact(value: unknown): unknown {
  return typeof value === 'string' ? maskNumber(value) : value;
}
