import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log/logger.js';
import type { LogLevel } from '../../src/config/config-types.js';

/** A real pino logger whose records are parsed and kept in `lines`, for asserting on what was logged. */
export function logCapture(level: LogLevel = 'debug'): { lines: Record<string, unknown>[]; logger: Logger } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, logger: createLogger({ level, destination }) };
}

/** A real pino logger at `level` whose output goes nowhere (keeps test output readable). */
export function discardLogger(level: LogLevel): Logger {
  return createLogger({ level, destination: new Writable({ write: (_c, _e, cb) => cb() }) });
}
