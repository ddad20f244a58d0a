import { ErrorCodes } from '../../errors/codes.js';
import { isRingproofError } from '../../errors/ringproof-error.js';
import type { Verification } from '../../verify/verification-types.js';
import { ApiResponseError } from '../api-client.js';
import { EXIT_API_ERROR, EXIT_NOT_VERIFIED, EXIT_OK, type VerifyIo } from './verify-io.js';

/** Human-readable lines describing a session. */
export function describeVerification(v: Verification): string[] {
  const lines = [
    `id:          ${v.id}`,
    `status:      ${v.status}`,
    `phoneNumber: ${v.phoneNumber}`,
    v.method === 'flash_call' ? 'method:      flash_call' : `callTo:      ${v.callTo ?? ''}`,
    `createdAt:   ${v.createdAt}`,
    `expiresAt:   ${v.expiresAt}`,
  ];
  if (v.flashCall) lines.push(`flashCall:   ${v.flashCall.state}${v.flashCall.failureClass ? ` (${v.flashCall.failureClass})` : ''}`);
  if (v.verifiedAt) lines.push(`verifiedAt:  ${v.verifiedAt}`);
  if (v.callbackUrl) lines.push(`callbackUrl: ${v.callbackUrl}`);
  if (v.metadata) lines.push(`metadata:    ${JSON.stringify(v.metadata)}`);
  return lines;
}

/** The one-line outcome of a finished session. */
export function outcomeLine(v: Verification): string {
  switch (v.status) {
    case 'verified': return v.method === 'flash_call'
      ? `Verified: ${v.phoneNumber} reported the flash call${v.verifiedAt ? ` at ${v.verifiedAt}` : ''}`
      : `Verified: ${v.phoneNumber} called ${v.callTo ?? ''}${v.verifiedAt ? ` at ${v.verifiedAt}` : ''}`;
    case 'expired': return `Expired: no call from ${v.phoneNumber} arrived before ${v.expiresAt}; fall back to another channel (e.g. SMS)`;
    case 'cancelled': return `Cancelled: verification ${v.id} was cancelled`;
    case 'blocked': return `Blocked: verification ${v.id} was blocked`;
    case 'failed': return `Failed: verification ${v.id} had too many wrong flash-call reports`;
    case 'pending': return `Pending: still waiting for a call from ${v.phoneNumber} to ${v.callTo}`;
  }
}

export function exitCodeFor(v: Verification): number {
  return v.status === 'verified' ? EXIT_OK : EXIT_NOT_VERIFIED;
}

/** Prints an error the way every verify command does and returns the exit code for it. */
export function reportError(err: unknown, io: VerifyIo, json: boolean | undefined): number {
  if (json) {
    const body = err instanceof ApiResponseError
      ? { error: { code: err.code, message: err.message, status: err.status, ...(err.field ? { field: err.field } : {}) } }
      : { error: { code: isRingproofError(err) ? err.code : ErrorCodes.INTERNAL, message: err instanceof Error ? err.message : String(err) } };
    io.err(JSON.stringify(body));
  } else if (err instanceof ApiResponseError) {
    io.err(`error: ${err.message} (${err.code}, HTTP ${err.status})`);
  } else {
    io.err(`error: ${err instanceof Error ? err.message : String(err)}`);
  }
  return EXIT_API_ERROR;
}
