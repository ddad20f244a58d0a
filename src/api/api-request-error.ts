import { ErrorCodes, type ErrorCode } from '../errors/codes.js';
import { RingproofError } from '../errors/ringproof-error.js';

/** A RingproofError that knows the HTTP status it maps to and, for input errors, the field to blame. */
export class ApiRequestError extends RingproofError {
  readonly statusCode: number;
  readonly field: string | undefined;
  /** Sent as Retry-After (seconds) with a 503. */
  retryAfterSeconds: number | undefined;
  /** Extra members of the error body, e.g. a refusal's rule, country and type. */
  readonly details: Readonly<Record<string, string | number | boolean>> | undefined;
  constructor(code: ErrorCode, statusCode: number, message: string, field?: string, details?: Readonly<Record<string, string | number | boolean>>) {
    super(code, message);
    this.name = 'ApiRequestError';
    this.statusCode = statusCode;
    this.field = field;
    this.details = details;
  }
}

/** 503 + Retry-After: the request is fine, the service cannot take it now. */
export function unavailableError(message: string, retryAfterSeconds: number): ApiRequestError {
  const err = new ApiRequestError(ErrorCodes.API_UNAVAILABLE, 503, message);
  err.retryAfterSeconds = retryAfterSeconds;
  return err;
}

export function validationError(message: string, field?: string): ApiRequestError {
  return new ApiRequestError(ErrorCodes.API_VALIDATION, 400, message, field);
}

export function notFoundError(message: string): ApiRequestError {
  return new ApiRequestError(ErrorCodes.API_NOT_FOUND, 404, message);
}

/** HTTP status for RingproofErrors raised below the route layer (e.g. by the store). */
export function statusForCode(code: ErrorCode): number {
  switch (code) {
    case ErrorCodes.API_VALIDATION: return 400;
    case ErrorCodes.API_UNAUTHORIZED: return 401;
    case ErrorCodes.API_FORBIDDEN: return 403;
    case ErrorCodes.API_ADMIN_REQUIRED: return 403;
    case ErrorCodes.API_NOT_FOUND: return 404;
    case ErrorCodes.API_CONFLICT: return 409;
    case ErrorCodes.NUMBER_INVALID: return 422;
    case ErrorCodes.NUMBER_REFUSED: return 422;
    default: return 500;
  }
}
