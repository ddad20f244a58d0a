import { ErrorCodes } from '../errors/codes.js';
import { RingproofError } from '../errors/ringproof-error.js';
import type { EgressRefusal } from './egress-policy.js';

/** Raised (or handed to a socket callback) when a destination is refused; the message names host, address and class. */
export class EgressRefusedError extends RingproofError {
  readonly refusal: EgressRefusal;
  constructor(refusal: EgressRefusal) {
    super(ErrorCodes.EGRESS_REFUSED, `refused: ${refusal.message}`);
    this.name = 'EgressRefusedError';
    this.refusal = refusal;
  }
}

export function isEgressRefusedError(err: unknown): err is EgressRefusedError {
  return err instanceof EgressRefusedError;
}
