import { ApiClient } from '../api-client.js';
import type { VerifyIo } from './verify-io.js';

export const DEFAULT_API_URL = 'http://127.0.0.1:8080';

/** Options every verify subcommand takes. */
export interface VerifyClientOptions {
  api?: string;
  apiKey?: string;
  json?: boolean;
}

/** Flags win over RINGPROOF_API_URL / RINGPROOF_API_KEY, which win over the default. */
export function clientFor(opts: VerifyClientOptions, io: VerifyIo): ApiClient {
  const baseUrl = opts.api ?? nonEmpty(io.env.RINGPROOF_API_URL) ?? DEFAULT_API_URL;
  const apiKey = opts.apiKey ?? nonEmpty(io.env.RINGPROOF_API_KEY);
  return new ApiClient({ baseUrl, fetch: io.fetch, ...(apiKey === undefined ? {} : { apiKey }) });
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}
