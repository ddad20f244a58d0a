import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { LruCache } from '../edge/lru-cache.js';
import type { CallerTrustReason } from './caller-trust-types.js';
import { parseCertificateChain } from './certificate-chain.js';
import type { StiCertificate, StiChainVerifier } from './sti-chain-verifier.js';
import { X5uFetchError, type X5uFetcher, type X5uFetchLimits } from './x5u-fetcher.js';
import { x5uLocalPath } from './x5u-url.js';

export type CertificateLookup =
  | { ok: true; cert: StiCertificate }
  | { ok: false; reason: CallerTrustReason; detail: string; transient: boolean };

export type CertificateSourceKind = 'local' | 'x5u';

export interface StiCertificateCacheOptions {
  verifier: StiChainVerifier;
  /** Directory of provisioned certificates, laid out as host/path of the x5u (see x5uLocalPath). */
  certificateDir?: string;
  /** Fetches x5u URLs not found in the directory; absent = provisioned certificates only. */
  fetcher?: X5uFetcher;
  limits: X5uFetchLimits;
  maxEntries: number;
  /** Longest a good chain is kept; never past the chain's notAfter. */
  ttlMs: number;
  /** How long a failure is remembered, so a bad x5u costs one fetch per window, not one per call. */
  negativeTtlMs: number;
  clock?: () => number;
  /** Told about each load that was not answered from the cache. */
  onLoad?: (source: CertificateSourceKind, ok: boolean) => void;
}

interface Entry {
  result: CertificateLookup;
  expiresAt: number;
}

class NotProvisioned extends Error {}

/**
 * x5u URL → verified SP certificate (chain checked against the anchors, TNAuthList read, key
 * imported), in a bounded cache. Concurrent lookups of one URL share a load. Nothing here runs on
 * the SIP path: the worker asks only for calls that match a pending session.
 */
export class StiCertificateCache {
  private readonly cache: LruCache<string, Entry>;
  private readonly inflight = new Map<string, Promise<CertificateLookup>>();
  private readonly clock: () => number;

  constructor(private readonly opts: StiCertificateCacheOptions) {
    this.cache = new LruCache(opts.maxEntries);
    this.clock = opts.clock ?? Date.now;
  }

  get size(): number {
    return this.cache.size;
  }

  async get(url: URL): Promise<CertificateLookup> {
    const key = url.href;
    const hit = this.cache.get(key);
    if (hit !== undefined && this.clock() < hit.expiresAt) return hit.result;
    const pending = this.inflight.get(key);
    if (pending !== undefined) return pending;
    const load = this.load(url).finally(() => this.inflight.delete(key));
    this.inflight.set(key, load);
    return load;
  }

  private async load(url: URL): Promise<CertificateLookup> {
    let source: CertificateSourceKind = 'local';
    let result: CertificateLookup;
    try {
      let body = await this.readLocal(url);
      if (body === undefined) {
        if (this.opts.fetcher === undefined) throw new NotProvisioned('x5u certificate is not provisioned in the certificate directory');
        source = 'x5u';
        body = await this.opts.fetcher.fetch(url, this.opts.limits);
      }
      result = await this.verify(body);
    } catch (err) {
      const transient = err instanceof X5uFetchError && err.transient;
      const detail = err instanceof X5uFetchError || err instanceof NotProvisioned ? err.message : 'x5u certificate could not be read';
      result = { ok: false, reason: 'certificate_unavailable', detail, transient };
    }
    this.opts.onLoad?.(source, result.ok);
    const now = this.clock();
    if (result.ok && result.cert.validToMs <= now) {
      result = { ok: false, reason: 'certificate_expired', detail: 'the certificate path has expired', transient: false };
    }
    const expiresAt = result.ok ? Math.min(now + this.opts.ttlMs, result.cert.validToMs) : now + this.opts.negativeTtlMs;
    this.cache.set(url.href, { result, expiresAt });
    return result;
  }

  private async verify(body: Uint8Array): Promise<CertificateLookup> {
    let chain;
    try {
      chain = parseCertificateChain(body, this.opts.limits.maxBytes);
    } catch (err) {
      return { ok: false, reason: 'certificate_invalid', detail: `x5u resource: ${(err as Error).message}`.slice(0, 200), transient: false };
    }
    const checked = await this.opts.verifier.check(chain);
    return checked.ok ? checked : { ...checked, transient: false };
  }

  /** The provisioned copy, undefined when there is none; refuses one larger than the fetch limit. */
  private async readLocal(url: URL): Promise<Uint8Array | undefined> {
    const dir = this.opts.certificateDir;
    if (dir === undefined) return undefined;
    const segments = x5uLocalPath(url);
    if (segments === undefined) return undefined;
    let handle;
    try {
      handle = await open(join(dir, ...segments), 'r');
    } catch {
      return undefined;
    }
    try {
      const { size } = await handle.stat();
      if (size > this.opts.limits.maxBytes) throw new X5uFetchError('too_large', `provisioned certificate larger than ${this.opts.limits.maxBytes} bytes`);
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }
}
