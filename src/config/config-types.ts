import type { NumberType, VerificationMethod } from '../numbers/number-types.js';

/**
 * The parsed, validated configuration. It is built once at start-up (file, then environment, then
 * flags) and passed down; nothing reads process.env or files after that.
 */

export type SipTransport = 'udp' | 'tcp';

export interface ListenSpec {
  transport: SipTransport;
  /** Literal IP address without brackets, e.g. "0.0.0.0" or "::1". */
  host: string;
  port: number;
  family: 4 | 6;
  /** The text the operator wrote, for logs and errors. */
  text: string;
}

export interface HostPort {
  host: string;
  port: number;
}

export type CliSource = 'pai' | 'rpid' | 'from';
export type RejectCode = 486 | 603;

export interface TrunkConfig {
  name: string;
  /** CIDRs or single addresses, IPv4 or IPv6. */
  sources: string[];
  /** ISO 3166-1 alpha-2 country for national number forms, e.g. "US", "GB". */
  defaultCountry: string;
  rejectCode: RejectCode;
  cliSources: CliSource[];
}

export interface SipConfig {
  engine: 'native' | 'drachtio';
  listen: ListenSpec[];
  /** What INVITEs from sources outside every trunk get: a 403, or nothing at all. */
  unknownSource: 'reject' | 'drop';
  /** UDP datagrams / TCP messages larger than this are dropped and counted. */
  maxMessageBytes: number;
  /** Upper bound on server transactions held in memory; past it new INVITEs are answered statelessly. */
  maxTransactions: number;
  /** RFC 3261 T1/T2/T4 in milliseconds (timers G, H, I, J derive from them). */
  t1Ms: number;
  t2Ms: number;
  t4Ms: number;
  tcpIdleTimeoutMs: number;
  maxTcpConnections: number;
  /** User-Agent substrings (case-insensitive) of SIP scanners whose requests are dropped silently. */
  scannerUserAgents: string[];
  /** Value of the Server header; empty string sends none. */
  serverHeader: string;
  drachtio: DrachtioConfig;
}

export interface DrachtioConfig {
  host: string;
  port: number;
  secret: string;
}

export interface HttpConfig {
  listen: HostPort;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface LogConfig {
  level: LogLevel;
}

export interface RedisConfig {
  /** redis://, rediss://, redis-sentinel:// or redis-cluster:// URL; undefined = embedded redis-server. */
  url: string | undefined;
  /** Key prefix; wrapped in {braces} so BullMQ works on Cluster. */
  keyPrefix: string;
  /** Path of the redis-server binary for the embedded mode. */
  embeddedBinary: string;
  /** Embedded redis-server AOF fsync policy (see docs/memory-model.md, durability). */
  appendfsync: 'everysec' | 'always';
  /** Embedded redis-server maxmemory in MiB (noeviction); 0 = no ceiling. */
  maxmemoryMb: number;
  /** Percent of maxmemory at which creation answers 503 (unsolicited calls are shed 10 points below). */
  memoryHighWaterPercent: number;
  /** Replicas a queued call batch and a call decision must reach (WAIT): 'auto', 0 (never) or N (docs/topology.md). */
  waitReplicas: 'auto' | number;
  /** Longest WAIT for those replicas (ms). */
  waitTimeoutMs: number;
}

export interface PipelineConfig {
  /** How long a Call-ID's decision is remembered to absorb resends (s). */
  dedupeWindowSeconds: number;
  /** Full reload period of the edge's pending-number pre-filter (s). */
  prefilterReloadSeconds: number;
  /**
   * Period of the pre-filter's watermark probe (ms); with it the edge decides itself, in aggregate,
   * the calls that cannot match a pending session. 0 turns that off (every call is queued).
   */
  prefilterWatermarkMs: number;
  /** Unsolicited calls are shed while the oldest waiting unsolicited batch is older than this (s). */
  shedAfterSeconds: number;
  /**
   * Role all: the workers (calls, expiry, webhooks) run in a worker thread of their own, so the SIP
   * edge keeps the main thread (and its core) to itself. No effect in the other roles.
   */
  workerThread: boolean;
}

/** Retention of the audit trails (see src/audit/audit-types.ts AuditSettings). */
export interface AuditConfig {
  evidenceRetentionDays: number;
  noiseMaxEntries: number;
  noiseSampleEvery: number;
  noiseMaxPerSecond: number;
  aggregateRetentionHours: number;
  topTalkers: number;
}

export interface SpoolConfig {
  /** Most events held on disk while Redis is unreachable. */
  maxEvents: number;
  /** Largest batch handed to addBulk, and the longest wait to fill one. */
  batchSize: number;
  batchDelayMs: number;
}

export interface ApiKeyConfig {
  name: string;
  /** "sha256:<hex>" of the bearer token. */
  hash: string;
  /** May manage the blocklist (admin routes); default false: an app key. */
  admin?: boolean;
  /** Number policy fields this key sets differently from numbers.policy, per method. */
  policy?: NumberPolicyOverrides;
  /** Creation limits this key sets differently from limits.create (each limit whole). */
  limits?: { create: Partial<Omit<CreateLimitsConfig, 'enabled'>> };
}

export interface ApiConfig {
  keys: ApiKeyConfig[];
}

export interface WebhookConfig {
  /** Used when a session has no callbackUrl. */
  defaultUrl: string | undefined;
  /** "whsec_..." secrets; the first signs, all are listed in rotation (every one signs). */
  secrets: string[];
  maxAttempts: number;
  timeoutMs: number;
  /**
   * The worker that verified a session POSTs its webhook itself (one short attempt) before falling
   * back to the webhooks queue; false = every webhook goes through the queue.
   */
  directFirstAttempt: boolean;
  /**
   * CIDRs webhooks may reach although they are not public (loopback, RFC 1918, ULA, ...). Default
   * none: every non-public destination is refused, loopback included.
   */
  allowPrivateTargets: string[];
}

export interface MetricsConfig {
  /** A listener of its own for /metrics (then not served on http.listen); undefined = on http.listen. */
  listen: HostPort | undefined;
}

export interface VerificationConfig {
  defaultTtlSeconds: number;
  minTtlSeconds: number;
  maxTtlSeconds: number;
}

/**
 * Caller trust (anti-spoofing, issue #10): what a call that matches a pending session needs, beyond
 * (DID, CLI), to verify it. Decided by the worker from the edge's reading of the carrier's verstat.
 */
export interface TrustConfig {
  /** A caller ID whose validation failed (verstat TN-Validation-Failed): 'reject' (never verifies) or 'accept'. */
  failed: 'reject' | 'accept';
  /**
   * Lowest attestation a call needs: 'none' (no STIR/SHAKEN result needed), or 'C'/'B'/'A': a
   * TN-Validation-Passed of at least that level (a plain Passed counts as C).
   */
  minAttestation: 'none' | 'C' | 'B' | 'A';
  /**
   * Only a network-asserted caller ID verifies: read from P-Asserted-Identity or Remote-Party-ID (the
   * trunk asserts it), or vouched for by a valid Identity PASSporT; a From-only CLI is refused.
   */
  requireNetworkAsserted: boolean;
  /**
   * What an app may ask for with a verification's callerTrustPolicy: 'tighten' = only a stricter
   * policy than this one; 'any' = a looser one too (e.g. accept failed caller IDs for a test flow).
   */
  perVerification: 'tighten' | 'any';
  /** STIR/SHAKEN Identity header verification (RFC 8224/8588); off while anchorsFile is unset. */
  identity: IdentityTrustConfig;
}

export interface IdentityTrustConfig {
  /** PEM file of the STI-CA trust anchors (the STI-PA's list); undefined = Identity headers are not checked. */
  anchorsFile: string | undefined;
  /** Directory of provisioned SP certificates, laid out as the x5u's host/path ("cr.example.net/sti/sp.pem"). */
  certificateDir: string | undefined;
  /** Fetch an x5u over https when it is not provisioned (https only, size and time caps). */
  fetchX5u: boolean;
  /** Let x5u fetches reach private and loopback addresses (a lab, or a certificate server inside the network). */
  allowPrivateX5u: boolean;
  /** Oldest PASSporT iat accepted, before the call's receipt. */
  maxAgeSeconds: number;
  /** How far iat may lie after the call's receipt (clock skew). */
  futureSkewSeconds: number;
  /** CRL files (the STI-PA's, fetched by the operator); a certificate of a path on one never verifies. */
  crlFiles: string[];
  /** PEM certificates allowed to sign the CRLs besides the trust anchors (the STI-PA's own). */
  crlSignersFile: string | undefined;
  /** How often the CRL files are checked for a change and re-read. */
  crlRefreshSeconds: number;
}

/** What a method's number policy does with VoIP numbers: accept, accept with a `voip` flag, or refuse. */
export type VoipHandling = 'allow' | 'flag' | 'refuse';

/** Which numbers one verification method accepts. */
export interface MethodPolicyConfig {
  /** Types accepted (VoIP is decided by `voip`); `unknown` here would accept numbers that are not valid. */
  allowedTypes: NumberType[];
  voip: VoipHandling;
  /** ISO 3166-1 alpha-2 regions ("001" = non-geographic codes); empty = every region. */
  allowCountries: string[];
  denyCountries: string[];
}

export type NumberPolicyOverrides = Partial<Record<VerificationMethod, Partial<MethodPolicyConfig>>>;

export interface NumbersConfig {
  policy: Record<VerificationMethod, MethodPolicyConfig>;
  /** The operator's deny-list of number prefixes, re-read on change and on SIGHUP; undefined = the shipped list. */
  denyPrefixesFile: string | undefined;
  /** An HTTP line-type lookup asked at creation; undefined url = off (the default). */
  carrierLookup: CarrierLookupConfig;
}

/** What the API does when the carrier lookup times out or answers nonsense. */
export type CarrierLookupOnError = 'allow' | 'refuse';

/** The optional carrier (line-type) lookup; see README "Number policy". */
export interface CarrierLookupConfig {
  /** http(s) endpoint that speaks the lookup contract; undefined = no lookup. */
  url: string | undefined;
  /** The whole request: connect, response and body. */
  timeoutMs: number;
  /** How long an answer is reused; 0 = no cache. */
  cacheTtlSeconds: number;
  /** Most numbers kept in the cache. */
  cacheSize: number;
  /** On a failed lookup: `allow` (the range verdict stands, flag lookup_failed) or `refuse` (503). */
  onError: CarrierLookupOnError;
  /** Extra request headers, e.g. authorization; never logged. */
  headers: Record<string, string>;
  /** CIDRs the lookup may reach although they are not public (its own list: not the webhooks'). */
  allowPrivateTargets: string[];
}

/** One counting window: at most `count` creations per `windowSeconds`; count 0 = this limit is off. */
export interface LimitWindow {
  count: number;
  windowSeconds: number;
}

/** Session-creation limits (the SMS-pumping guard), counted in Redis and shared by every API process. */
export interface CreateLimitsConfig {
  /** false = no creation limit at all (load tests, an app that limits upstream). */
  enabled: boolean;
  perNumber: LimitWindow;
  /** Numbers sharing their first `digits` digits (country code included) count together. */
  perPrefix: LimitWindow & { digits: number };
  /** Per region of the number, as the number policy classified it. */
  perCountry: LimitWindow;
  perApiKey: LimitWindow;
  perClientIp: LimitWindow;
}

/**
 * Call limits (worker side, in Redis): counted over the calls whose CLI has a pending session; a call
 * over a limit never verifies and its outcome names the limit (limit_cli, …).
 */
export interface CallLimitsConfig {
  /** false = no call limit at all (load tests). */
  enabled: boolean;
  /** Candidate calls per CLI per window. */
  perCli: LimitWindow;
  /** Distinct DIDs one CLI calls per window (`count` counts DIDs, not calls): a sweep of the pool. */
  perCliDids: LimitWindow;
  /** Candidate calls per called DID per window. */
  perDid: LimitWindow;
  /** Candidate calls per trunk per window. */
  perTrunk: LimitWindow;
}

/**
 * The low-conversion throttle: a number prefix whose sessions rarely verify (created vs verified, over
 * the current and previous window) gets only `throttle.count` creations per `throttle.windowSeconds`.
 */
export interface ConversionConfig {
  enabled: boolean;
  /** Numbers sharing their first `prefixDigits` digits (country code included) count together. */
  prefixDigits: number;
  /** Length of one counting window; the current and the previous one are read. */
  windowSeconds: number;
  /** No judgement below this many creations in the two windows. */
  minCreated: number;
  /** Verified / created below this (0–1) throttles the prefix. */
  minRate: number;
  throttle: LimitWindow;
}

export interface LimitsConfig {
  create: CreateLimitsConfig;
  calls: CallLimitsConfig;
  conversion: ConversionConfig;
}

/** `abuse.floodGuard`: the per-source sampling window of the edge (see README "Flood guard"). */
export interface FloodGuardConfig {
  enabled: boolean;
  /** Length of one sampling window. */
  windowMs: number;
  /** Requests a non-trunk source may send per window; one more bans it. */
  maxRequests: number;
  /** How long a ban lasts. */
  banSeconds: number;
  /** The same for trunk addresses; 0 = trunk addresses are never counted nor banned. */
  trunkMaxRequests: number;
  /** Most sources counted at once; past it the stalest window is evicted (counted). */
  maxSources: number;
}

/** `abuse.blocklist`: how each edge keeps its copy of the shared blocklist. */
export interface BlocklistConfig {
  /** Full reload period of an edge's copy (pub/sub applies each change at once in between). */
  reloadSeconds: number;
}

/** `abuse.hammering`: a CLI that keeps calling with no pending session is blocked for a while. */
export interface HammeringConfig {
  enabled: boolean;
  /** Calls from one CLI with no pending session, within windowSeconds, that trigger the block. */
  maxCalls: number;
  windowSeconds: number;
  /** How long the automatic blocklist entry lasts. */
  blockSeconds: number;
  /** Most CLIs counted at once per edge; past it new CLIs are admitted by sampling (see README). */
  maxTracked: number;
}

/** `abuse.enumeration`: many distinct CLIs of one number block with no pending session → the block is blocked for a while. */
export interface EnumerationConfig {
  enabled: boolean;
  /** Trailing digits that vary within a block: 4 = blocks of 10,000 numbers. */
  suffixDigits: number;
  /** Distinct CLIs of one block with no pending session, within windowSeconds, that flag it. */
  maxDistinct: number;
  windowSeconds: number;
  /** How long the automatic prefix entry lasts. */
  blockSeconds: number;
  /** Most blocks counted at once per edge; past it new blocks are admitted by sampling. */
  maxTracked: number;
}

/** Abuse protection at the edge (issue #10). */
export interface AbuseConfig {
  floodGuard: FloodGuardConfig;
  blocklist: BlocklistConfig;
  hammering: HammeringConfig;
  enumeration: EnumerationConfig;
  /** Where `abuse.*` webhooks go (signed like verification webhooks); undefined = none is sent. */
  webhookUrl: string | undefined;
}

/** Where a SIP request is sent: a transport and a host (IP literal or name, resolved at start) and port. */
export interface SipTarget {
  transport: SipTransport;
  host: string;
  port: number;
  /** The text the operator wrote, for logs and errors. */
  text: string;
}

/** Digest credentials for an outbound trunk (RFC 8760: SHA-512-256, SHA-256, MD5). */
export interface OutboundCredentials {
  username: string;
  password: string;
  /** Answer only challenges of this realm; undefined = any realm the trunk sends. */
  realm: string | undefined;
}

/**
 * One caller ID of a flash-call pool: a full number the operator owns (`digits` 0), or a prefix whose
 * last `digits` digits are drawn per call and carry the code (written "+44207946XXXX" in the config).
 */
export interface CliPoolEntry {
  /** E.164 without the code digits. */
  prefix: string;
  digits: number;
  text: string;
}

/** An outbound SIP trunk flash calls are placed through (issue #12). Calls only ever go to these. */
export interface OutboundTrunkConfig {
  name: string;
  /** The carrier's SBC: where the Request-URI points. */
  target: SipTarget;
  /** Sent here instead of the target, with a Route header naming it (loose routing). */
  outboundProxy: SipTarget | undefined;
  /** Host part of the Request-URI and To; default the target host. */
  domain: string;
  /** Host part of From (and PAI); default the domain. */
  fromDomain: string;
  /** How numbers are written in user parts: "+E.164" or its digits without "+". */
  numberFormat: 'e164' | 'digits';
  /** Also send the CLI in P-Asserted-Identity (trunks that take the caller ID from PAI). */
  pai: boolean;
  credentials: OutboundCredentials | undefined;
  /** New calls per second through this trunk; further calls wait for a slot (up to outbound.maxQueueMs). */
  cps: number;
  /** Calls in progress at once; past it a call goes to the next trunk or fails `capacity`. */
  maxConcurrent: number;
  /** Caller IDs the operator owns on this trunk. */
  cliPool: CliPoolEntry[];
}

export interface OutboundConfig {
  /** Local address the UAC's UDP socket binds and TCP connections leave from. */
  bindAddress: string;
  /** Host written in Via and Contact; undefined = the local address toward each trunk. */
  advertiseAddress: string | undefined;
  /** Time the phone rings (after 180/183) before our CANCEL. */
  minRingMs: number;
  /** Our ring timeout: no 180/183 by then and the call is cancelled (once a provisional came). */
  ringTimeoutMs: number;
  /** Longest wait for a trunk's calls-per-second slot before a call counts as a CPS-cap rejection. */
  maxQueueMs: number;
  /** Send a minimal SDP offer with the INVITE (some trunks refuse an INVITE without one). */
  sdp: boolean;
  /** Reports (POST /v1/verifications/{id}/report) a flash-call session takes; a wrong last one fails it. */
  reportAttempts: number;
  /** Flash calls one number may get per window (count 0 = no throttle): a phone is not rung again and again. */
  perNumber: LimitWindow;
  /**
   * What a failed flash call turns into: `inbound_call` (the session gets a DID, `callTo`, and the user
   * may call it until expiresAt) or `none` (the session expires at once).
   */
  fallback: 'inbound_call' | 'none';
  /**
   * Seconds after a call that rang (or was answered) without a correct report before the session
   * falls back as a failed call does (with fallback inbound_call; with none it expires at expiresAt).
   */
  reportWindowSeconds: number;
  /** Configured trunks, in failover order. Empty = flash calls are off. */
  trunks: OutboundTrunkConfig[];
}

/** The DID pool in Redis (seeded from `dids`): quarantine of released DIDs. */
export interface DidPoolConfig {
  /** Days a released DID stays out of service before it may be restored. */
  quarantineDays: number;
  /** The window (minutes) over which a DID's unwanted calls are counted when it is restored. */
  restoreQuietMinutes: number;
  /** A DID that drew more unwanted calls than this in that window is not restored. */
  restoreMaxUnwantedCalls: number;
  /** Flagging a DID whose unwanted-call rate rises far above its normal level. */
  flag: DidFlagConfig;
}

/**
 * `didPool.flag`: every minute one API process compares each DID's unwanted calls (calls that
 * concerned no session) of the last `recentMinutes` with its rate over the `baselineMinutes` before.
 */
export interface DidFlagConfig {
  enabled: boolean;
  recentMinutes: number;
  baselineMinutes: number;
  /** Flagged when the recent rate is above `factor` times the baseline rate (at least 1 call a minute)… */
  factor: number;
  /** …and at least this many unwanted calls came in the recent window. */
  minCalls: number;
  /** How long a flag stays (it can be removed before). */
  seconds: number;
}

export type Role = 'all' | 'edge' | 'worker' | 'api';

export interface EventsConfig {
  /**
   * Where the edge hands CallEvents: 'queue' (BullMQ on Redis, the product) or 'log' (log and count
   * only: a SIP-only edge for load tests and trunk bring-up, no Redis needed).
   */
  sink: 'queue' | 'log';
}

export interface RingproofConfig {
  role: Role;
  /** Directory for the embedded Redis data, the spool and other state. */
  stateDir: string;
  sip: SipConfig;
  http: HttpConfig;
  metrics: MetricsConfig;
  log: LogConfig;
  trunks: TrunkConfig[];
  /** Outbound trunks for flash calls (issue #12); none = flash calls are off. */
  outbound: OutboundConfig;
  redis: RedisConfig;
  spool: SpoolConfig;
  events: EventsConfig;
  pipeline: PipelineConfig;
  audit: AuditConfig;
  /** The DID pool verification numbers are drawn from, E.164. */
  dids: string[];
  api: ApiConfig;
  webhooks: WebhookConfig;
  verification: VerificationConfig;
  trust: TrustConfig;
  /** Number intelligence at creation: policy per method, deny-listed prefixes. */
  numbers: NumbersConfig;
  /** Abuse limits; today the creation limits. */
  limits: LimitsConfig;
  /** Abuse protection: the edge's flood guard. */
  abuse: AbuseConfig;
  didPool: DidPoolConfig;
  /** Seconds granted to in-flight work on SIGTERM before exit. */
  shutdownGraceSeconds: number;
  /** Source of the settings, for the start-up log line. */
  sourceFile: string | undefined;
}
