import { DEFAULT_AUDIT_SETTINGS } from '../audit/audit-types.js';
import { DEFAULT_DEDUPE_WINDOW_SECONDS } from '../verify/verify-defaults.js';
import { defaultNumbersConfig } from '../numbers/number-policy-defaults.js';
import { defaultDidPoolConfig } from '../dids/did-pool-defaults.js';
import { defaultLimitsConfig } from '../limits/create-limit-defaults.js';
import { defaultAbuseConfig } from '../abuse/abuse-defaults.js';
import type { ListenSpec, RingproofConfig } from './config-types.js';

/**
 * A demo pool from the fictional +1 555 01xx range (reserved for fiction, never routed), so the daemon
 * starts with no configuration at all. Real deployments list their own DIDs.
 */
export const DEMO_DIDS: readonly string[] = ['+15550100001', '+15550100002', '+15550100003'];

/** Well-known User-Agent substrings of SIP scanners and war-diallers; matched case-insensitively. */
export const DEFAULT_SCANNER_USER_AGENTS: readonly string[] = [
  'friendly-scanner',
  'sipvicious',
  'sipcli',
  'sip-scan',
  'sundayddr',
  'iwar',
  'vaxsipuseragent',
  'pplsip',
  'sipsak',
  'sip-sip',
  'smap',
];

function listen(transport: 'udp' | 'tcp', host: string, port: number): ListenSpec {
  return { transport, host, port, family: 4, text: `${transport}:${host}:${port}` };
}

/** Every setting's default; a fresh object each call so callers may not share mutable state. */
export function defaultConfig(): RingproofConfig {
  return {
    role: 'all',
    stateDir: './var',
    sip: {
      engine: 'native',
      listen: [listen('udp', '0.0.0.0', 5060), listen('tcp', '0.0.0.0', 5060)],
      unknownSource: 'reject',
      maxMessageBytes: 8192,
      maxTransactions: 200_000,
      t1Ms: 500,
      t2Ms: 4000,
      t4Ms: 5000,
      tcpIdleTimeoutMs: 120_000,
      maxTcpConnections: 1024,
      scannerUserAgents: [...DEFAULT_SCANNER_USER_AGENTS],
      serverHeader: 'ringproof',
      drachtio: { host: '127.0.0.1', port: 9022, secret: 'cymru' },
    },
    http: { listen: { host: '127.0.0.1', port: 8080 } },
    metrics: { listen: undefined },
    log: { level: 'info' },
    trunks: [],
    outbound: { bindAddress: '0.0.0.0', advertiseAddress: undefined, minRingMs: 1500, ringTimeoutMs: 20_000, maxQueueMs: 2000, sdp: true, reportAttempts: 3, perNumber: { count: 3, windowSeconds: 3600 }, fallback: 'inbound_call', reportWindowSeconds: 20, trunks: [] },
    redis: { url: undefined, keyPrefix: '{ringproof}', embeddedBinary: 'redis-server', appendfsync: 'everysec', maxmemoryMb: 512, memoryHighWaterPercent: 90, waitReplicas: 'auto', waitTimeoutMs: 1000 },
    spool: { maxEvents: 1_000_000, batchSize: 200, batchDelayMs: 50 },
    events: { sink: 'queue' },
    pipeline: { dedupeWindowSeconds: DEFAULT_DEDUPE_WINDOW_SECONDS, prefilterReloadSeconds: 30, prefilterWatermarkMs: 50, shedAfterSeconds: 10, workerThread: false },
    audit: { ...DEFAULT_AUDIT_SETTINGS },
    dids: [...DEMO_DIDS],
    api: { keys: [] },
    webhooks: {
      defaultUrl: undefined, secrets: [], maxAttempts: 8, timeoutMs: 5000, directFirstAttempt: true,
      // Nothing private: an operator lists the ranges their receivers sit in (tests list loopback).
      allowPrivateTargets: [],
    },
    verification: { defaultTtlSeconds: 120, minTtlSeconds: 60, maxTtlSeconds: 300 },
    trust: {
      failed: 'reject',
      minAttestation: 'none',
      requireNetworkAsserted: false,
      perVerification: 'tighten',
      identity: { anchorsFile: undefined, certificateDir: undefined, fetchX5u: true, allowPrivateX5u: false, maxAgeSeconds: 60, futureSkewSeconds: 5,
        crlFiles: [], crlSignersFile: undefined, crlRefreshSeconds: 300 },
    },
    numbers: defaultNumbersConfig(),
    limits: defaultLimitsConfig(),
    abuse: defaultAbuseConfig(),
    didPool: defaultDidPoolConfig(),
    shutdownGraceSeconds: 10,
    sourceFile: undefined,
  };
}
