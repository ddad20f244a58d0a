/** Why an x5u fetch failed. refused: the URL's address is not allowed; status: not a 200. */
export type X5uFetchFailure = 'refused' | 'timeout' | 'too_large' | 'status' | 'network';

export class X5uFetchError extends Error {
  constructor(readonly kind: X5uFetchFailure, message: string) {
    super(message);
    this.name = 'X5uFetchError';
  }

  /** Worth another try later: the server was slow, down or unreachable, not refused by policy. */
  get transient(): boolean {
    return this.kind === 'timeout' || this.kind === 'network' || this.kind === 'status';
  }
}

export interface X5uFetchLimits {
  /** Bodies larger than this are cut off and refused. */
  maxBytes: number;
  /** The whole fetch (DNS, connect, TLS, body) must end within this. */
  timeoutMs: number;
}

/**
 * THE SEAM for fetching an x5u certificate chain over https. The default, HttpsX5uFetcher, is
 * node:https with an address check at connect time; the SSRF-guarded HTTP agent built on branch
 * `security` can replace it by implementing this one method. The URL has already passed checkX5u
 * (https, no credentials, no query). Rejects with X5uFetchError.
 */
export interface X5uFetcher {
  fetch(url: URL, limits: X5uFetchLimits): Promise<Uint8Array>;
}
