import { clientFor, type VerifyClientOptions } from './verify-client-options.js';
import { EXIT_NOT_VERIFIED, EXIT_OK, type VerifyIo } from './verify-io.js';
import { outcomeLine, reportError } from './verify-output.js';

/**
 * `ringproof verify cancel ID`: 0 when the session is cancelled afterwards (also if it already was),
 * 1 when it had already finished otherwise (verified, expired, blocked), 2 on API errors.
 */
export async function runVerifyCancel(id: string, opts: VerifyClientOptions, io: VerifyIo): Promise<number> {
  try {
    const v = await clientFor(opts, io).cancelVerification(id);
    if (opts.json) io.out(JSON.stringify(v));
    else io.out(v.status === 'cancelled' ? outcomeLine(v) : `Not cancelled: verification ${v.id} had already finished (${v.status})`);
    return v.status === 'cancelled' ? EXIT_OK : EXIT_NOT_VERIFIED;
  } catch (err) {
    return reportError(err, io, opts.json);
  }
}
