import { clientFor, type VerifyClientOptions } from './verify-client-options.js';
import { EXIT_OK, type VerifyIo } from './verify-io.js';
import { describeVerification, reportError } from './verify-output.js';

/** `ringproof verify status ID`: prints the session; 0 whatever its status, 2 on API errors (404 too). */
export async function runVerifyStatus(id: string, opts: VerifyClientOptions, io: VerifyIo): Promise<number> {
  try {
    const v = await clientFor(opts, io).getVerification(id);
    if (opts.json) io.out(JSON.stringify(v));
    else for (const line of describeVerification(v)) io.out(line);
    return EXIT_OK;
  } catch (err) {
    return reportError(err, io, opts.json);
  }
}
