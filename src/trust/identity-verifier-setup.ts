import type { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { IdentityTrustConfig } from '../config/config-types.js';
import { ErrorCodes } from '../errors/codes.js';
import { RingproofError } from '../errors/ringproof-error.js';
import type { CallerTrustMetrics } from './caller-trust-metrics.js';
import type { CallerTrustPolicy } from './caller-trust-types.js';
import { parseCertificateChain } from './certificate-chain.js';
import { HttpsX5uFetcher } from './https-x5u-fetcher.js';
import { RedisReplayStore } from './redis-replay-store.js';
import { RevocationList } from './revocation-list.js';
import { StiCertificateCache } from './sti-certificate-cache.js';
import { StiChainVerifier } from './sti-chain-verifier.js';
import { StirShakenVerifier } from './stir-shaken-verifier.js';

/** An STI-PA trust list holds tens of CA certificates; this bounds a wrong file. */
const MAX_ANCHOR_BYTES = 4 * 1024 * 1024;
const MAX_ANCHORS = 1000;
const X5U_LIMITS = { maxBytes: 64 * 1024, timeoutMs: 2000 };
const CACHE_ENTRIES = 10_000;
const CACHE_TTL_MS = 3_600_000;
const NEGATIVE_TTL_MS = 60_000;

/**
 * The Identity verifier a worker process uses, built once at start from trust.identity; undefined
 * when no anchors file is configured. An unreadable or empty anchors file, or a CRL that cannot be
 * read or whose signature does not verify, stops the start with an error naming the key. `close`
 * stops the CRL refresh timer.
 */
export function createIdentityVerifier(opts: {
  config: IdentityTrustConfig;
  policy: CallerTrustPolicy;
  redis: Redis | Cluster;
  prefix: string;
  metrics: CallerTrustMetrics;
  logger: Logger;
}): { verifier: StirShakenVerifier; close(): void } | undefined {
  const c = opts.config;
  if (c.anchorsFile === undefined) return undefined;
  let anchors;
  try {
    anchors = parseCertificateChain(readFileSync(c.anchorsFile), MAX_ANCHOR_BYTES, MAX_ANCHORS);
  } catch (err) {
    throw new RingproofError(ErrorCodes.CONFIG_INVALID, `trust.identity.anchorsFile: cannot read STI-CA certificates from ${c.anchorsFile}: ${(err as Error).message}`, { cause: err });
  }
  const certificates = new StiCertificateCache({
    verifier: new StiChainVerifier(anchors),
    ...(c.certificateDir !== undefined ? { certificateDir: c.certificateDir } : {}),
    ...(c.fetchX5u ? { fetcher: new HttpsX5uFetcher({ allowPrivateAddresses: c.allowPrivateX5u }) } : {}),
    limits: X5U_LIMITS,
    maxEntries: CACHE_ENTRIES,
    ttlMs: CACHE_TTL_MS,
    negativeTtlMs: NEGATIVE_TTL_MS,
    onLoad: (source, ok) => opts.metrics.certificateLoads.inc({ source, result: ok ? 'ok' : 'failed' }),
  });
  const revocations = revocationList(c, anchors, opts.logger);
  const refresh = revocations === undefined ? undefined : setInterval(() => revocations.refresh(), c.crlRefreshSeconds * 1000);
  refresh?.unref();
  opts.logger.info({ anchors: anchors.length, certificateDir: c.certificateDir, fetchX5u: c.fetchX5u, revoked: revocations?.size }, 'STIR/SHAKEN Identity verification on');
  const verifier = new StirShakenVerifier({
    policy: opts.policy,
    certificates,
    replay: new RedisReplayStore(opts.redis, opts.prefix),
    ...(revocations !== undefined ? { revocations } : {}),
    maxAgeMs: c.maxAgeSeconds * 1000,
    futureSkewMs: c.futureSkewSeconds * 1000,
    metrics: opts.metrics,
    logger: opts.logger,
  });
  return { verifier, close: () => clearInterval(refresh) };
}

function revocationList(c: IdentityTrustConfig, anchors: X509Certificate[], logger: Logger): RevocationList | undefined {
  if (c.crlFiles.length === 0) return undefined;
  let signers = anchors;
  if (c.crlSignersFile !== undefined) {
    try {
      signers = [...parseCertificateChain(readFileSync(c.crlSignersFile), MAX_ANCHOR_BYTES, MAX_ANCHORS), ...anchors];
    } catch (err) {
      throw new RingproofError(ErrorCodes.CONFIG_INVALID, `trust.identity.crlSignersFile: cannot read certificates from ${c.crlSignersFile}: ${(err as Error).message}`, { cause: err });
    }
  }
  try {
    return new RevocationList({ files: c.crlFiles, signers, logger });
  } catch (err) {
    throw new RingproofError(ErrorCodes.CONFIG_INVALID, `trust.identity.crlFiles: ${(err as Error).message}`, { cause: err });
  }
}
