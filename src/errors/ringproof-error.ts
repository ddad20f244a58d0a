import type { ErrorCode } from './codes.js';

/** Every error ringproof raises on purpose carries a stable code (see codes.ts), like fastify's catalogue. */
export class RingproofError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RingproofError';
    this.code = code;
  }
}

export function isRingproofError(err: unknown): err is RingproofError {
  return err instanceof RingproofError;
}
