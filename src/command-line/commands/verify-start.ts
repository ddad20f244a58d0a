import type { Verification } from '../../verify/verification-types.js';
import { ApiUnreachableError, type ApiClient, type CreateVerificationRequest } from '../api-client.js';
import { clientFor, type VerifyClientOptions } from './verify-client-options.js';
import { EXIT_NOT_VERIFIED, EXIT_OK, type VerifyIo } from './verify-io.js';
import { exitCodeFor, outcomeLine, reportError } from './verify-output.js';

export interface VerifyStartOptions extends VerifyClientOptions {
  ttl?: number;
  callbackUrl?: string;
  country?: string;
  idempotencyKey?: string;
  /** false with --no-wait: print the number to call and return. */
  wait?: boolean;
  /** Between status polls; default 500 ms. */
  pollIntervalMs?: number;
}

/** How long past expiresAt to keep polling: expiry is a delayed job, so it may land a little late. */
export const EXPIRY_GRACE_MS = 30_000;
/** Consecutive connection failures tolerated while polling (a daemon restart, a blip). */
const MAX_POLL_FAILURES = 3;

/**
 * `ringproof verify start`: creates a session, prints the number to call, then polls until the
 * session is no longer pending. Returns the exit code: 0 verified, 1 not verified, 2 API error.
 * With --json, prints one JSON object per line: the created session, then the final one.
 */
export async function runVerifyStart(phoneNumber: string, opts: VerifyStartOptions, io: VerifyIo): Promise<number> {
  const client = clientFor(opts, io);
  const request: CreateVerificationRequest = { phoneNumber };
  if (opts.ttl !== undefined) request.ttlSeconds = opts.ttl;
  if (opts.callbackUrl !== undefined) request.callbackUrl = opts.callbackUrl;
  if (opts.country !== undefined) request.country = opts.country;
  let created: Verification;
  try {
    created = (await client.createVerification(request, opts.idempotencyKey === undefined ? {} : { idempotencyKey: opts.idempotencyKey })).verification;
  } catch (err) {
    return reportError(err, io, opts.json);
  }
  if (opts.json) io.out(JSON.stringify(created));
  else {
    io.out(`Call ${created.callTo} now (expires ${created.expiresAt})`);
    io.out(`Verification ${created.id} for ${created.phoneNumber}${opts.wait === false ? '' : ': waiting for the call...'}`);
  }
  if (opts.wait === false) return EXIT_OK;

  let final: Verification;
  try {
    final = await pollUntilDone(client, created, opts.pollIntervalMs ?? 500, io);
  } catch (err) {
    return reportError(err, io, opts.json);
  }
  if (opts.json) io.out(JSON.stringify(final));
  else io.out(outcomeLine(final));
  if (final.status === 'pending') {
    if (!opts.json) io.err('the session is still pending after it expired: is a ringproof worker running?');
    return EXIT_NOT_VERIFIED;
  }
  return exitCodeFor(final);
}

async function pollUntilDone(client: ApiClient, created: Verification, intervalMs: number, io: VerifyIo): Promise<Verification> {
  const deadline = Date.parse(created.expiresAt) + EXPIRY_GRACE_MS;
  let current = created;
  let failures = 0;
  while (current.status === 'pending' && io.now() < deadline) {
    await io.sleep(intervalMs);
    try {
      current = await client.getVerification(created.id);
      failures = 0;
    } catch (err) {
      if (!(err instanceof ApiUnreachableError) || ++failures >= MAX_POLL_FAILURES) throw err;
    }
  }
  return current;
}
