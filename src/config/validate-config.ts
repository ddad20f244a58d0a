import { toDid } from '../dids/did-number.js';
import type { ConfigChecker, ConfigPath } from './config-checker.js';
import { checkCallbackUrl } from '../webhooks/callback-url-rules.js';
import { webhookEgressPolicy } from '../webhooks/webhook-egress.js';
import type {
  ApiConfig, ApiKeyConfig, EventsConfig, HttpConfig, LimitsConfig, LogConfig, LogLevel, RedisConfig, RingproofConfig, Role, SpoolConfig,
  VerificationConfig, WebhookConfig,
} from './config-types.js';
import { defaultConfig } from './defaults.js';
import { redisUrlProblem } from '../redis/redis-url.js';
import { readHostPort } from './read-host-port.js';
import { readCidrList } from './read-cidr-list.js';
import { readMetrics } from './validate-metrics.js';
import { readAudit, readPipeline } from './validate-pipeline.js';
import { readBoolean } from './read-boolean.js';
import { readSip } from './validate-sip.js';
import { readTrunks } from './validate-trunks.js';
import { readOutbound } from './validate-outbound.js';
import { readTrust } from './validate-trust.js';
import { readNumbers, readPolicyOverrides } from './validate-numbers.js';
import { readKeyLimits, readLimits } from './validate-limits.js';
import { readAbuse } from './validate-abuse.js';
import { readDidPool } from './validate-did-pool.js';

const ROOT_KEYS = [
  'role', 'stateDir', 'sip', 'http', 'log', 'trunks', 'redis', 'spool', 'events', 'dids', 'api', 'webhooks', 'verification',
  'trust', 'shutdownGraceSeconds', 'metrics', 'numbers', 'pipeline', 'audit', 'limits', 'abuse', 'outbound', 'didPool',
] as const;
const ROLES: readonly Role[] = ['all', 'edge', 'worker', 'api'];
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function readHttp(c: ConfigChecker, value: unknown, d: HttpConfig): HttpConfig {
  const path = ['http'];
  const o = c.mapping(value, path, ['listen']);
  return { listen: c.pick(o, path, 'listen', d.listen, (v, p) => readHostPort(c, v, p)) };
}

function readEvents(c: ConfigChecker, value: unknown, d: EventsConfig): EventsConfig {
  const path = ['events'];
  const o = c.mapping(value, path, ['sink']);
  return { sink: c.pick(o, path, 'sink', d.sink, (v, p) => c.oneOf(v, p, ['queue', 'log'] as const)) };
}

function readLog(c: ConfigChecker, value: unknown, d: LogConfig): LogConfig {
  const path = ['log'];
  const o = c.mapping(value, path, ['level']);
  return { level: c.pick(o, path, 'level', d.level, (v, p) => c.oneOf(v, p, LOG_LEVELS)) };
}

function readRedis(c: ConfigChecker, value: unknown, d: RedisConfig): RedisConfig {
  const path = ['redis'];
  const o = c.mapping(value, path, ['url', 'keyPrefix', 'embeddedBinary', 'appendfsync', 'maxmemoryMb', 'memoryHighWaterPercent', 'waitReplicas', 'waitTimeoutMs']);
  return {
    url: c.pick<string | undefined>(o, path, 'url', d.url, (v, p) => {
      const s = c.string(v, p).trim();
      const problem = redisUrlProblem(s);
      if (problem !== undefined) c.fail(p, problem);
      return s;
    }),
    keyPrefix: c.pick(o, path, 'keyPrefix', d.keyPrefix, (v, p) => {
      const s = c.string(v, p);
      // A {hash tag} keeps every key of one queue in one Cluster slot, which BullMQ's scripts need.
      if (!/^\{[^{}\s]+\}[^{}\s]*$/.test(s)) c.fail(p, `must start with a {hash tag} such as "{ringproof}", got ${JSON.stringify(s)}`);
      return s;
    }),
    embeddedBinary: c.pick(o, path, 'embeddedBinary', d.embeddedBinary, (v, p) => c.string(v, p)),
    appendfsync: c.pick(o, path, 'appendfsync', d.appendfsync, (v, p) => c.oneOf(v, p, ['everysec', 'always'] as const)),
    maxmemoryMb: c.pick(o, path, 'maxmemoryMb', d.maxmemoryMb, (v, p) => {
      const n = c.int(v, p, 0, 1_048_576);
      if (n > 0 && n < 32) c.fail(p, `must be 0 (no ceiling) or at least 32 (MiB), got ${n}`);
      return n;
    }),
    memoryHighWaterPercent: c.pick(o, path, 'memoryHighWaterPercent', d.memoryHighWaterPercent, (v, p) => c.int(v, p, 20, 99)),
    waitReplicas: c.pick<'auto' | number>(o, path, 'waitReplicas', d.waitReplicas, (v, p) => {
      if (v === 'auto') return 'auto';
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > 16) c.fail(p, `must be "auto" or an integer from 0 to 16, got ${JSON.stringify(v)}`);
      return v as number;
    }),
    waitTimeoutMs: c.pick(o, path, 'waitTimeoutMs', d.waitTimeoutMs, (v, p) => c.int(v, p, 10, 4000)),
  };
}

function readSpool(c: ConfigChecker, value: unknown, d: SpoolConfig): SpoolConfig {
  const path = ['spool'];
  const o = c.mapping(value, path, ['maxEvents', 'batchSize', 'batchDelayMs']);
  return {
    maxEvents: c.pick(o, path, 'maxEvents', d.maxEvents, (v, p) => c.int(v, p, 1, 100_000_000)),
    batchSize: c.pick(o, path, 'batchSize', d.batchSize, (v, p) => c.int(v, p, 1, 10_000)),
    batchDelayMs: c.pick(o, path, 'batchDelayMs', d.batchDelayMs, (v, p) => c.int(v, p, 0, 10_000)),
  };
}

function readDids(c: ConfigChecker, value: unknown, path: ConfigPath): string[] {
  const items = c.list(value, path);
  if (items.length === 0) c.fail(path, 'must list at least one number to call');
  const out: string[] = [];
  items.forEach((item, i) => {
    // YAML reads an unquoted +15550100001 as an integer and drops the plus; refuse rather than guess.
    if (typeof item === 'number') c.fail([...path, i], `must be a quoted string such as "+15550100001", got the bare number ${item}`);
    const text = c.string(item, [...path, i]).trim();
    const e164 = toDid(text) ?? c.fail([...path, i], `${JSON.stringify(text)} is not an E.164 number: "+", country code, number, e.g. "+15550100001"`);
    const dup = out.indexOf(e164);
    if (dup >= 0) c.fail([...path, i], `${e164} is already listed at dids[${dup}]`);
    out.push(e164);
  });
  return out;
}

function readApiKey(c: ConfigChecker, value: unknown, path: ConfigPath, limits: LimitsConfig): ApiKeyConfig {
  const o = c.mapping(value, path, ['name', 'hash', 'admin', 'policy', 'limits']);
  c.required(o, path, 'name');
  c.required(o, path, 'hash', '"sha256:" followed by 64 hex digits of the token');
  const name = c.string(o.name, [...path, 'name']);
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) c.fail([...path, 'name'], `must be 1-64 characters of A-Z, a-z, 0-9, "_", "." or "-", got ${JSON.stringify(name)}`);
  const hash = c.string(o.hash, [...path, 'hash']).trim().toLowerCase();
  if (!/^sha256:[0-9a-f]{64}$/.test(hash)) c.fail([...path, 'hash'], 'must be "sha256:" followed by 64 hex digits (the hash of the token, never the token)');
  const key: ApiKeyConfig = { name, hash };
  if (o.admin != null && readBoolean(c, o.admin, [...path, 'admin'])) key.admin = true;
  if (o.policy != null) key.policy = readPolicyOverrides(c, o.policy, [...path, 'policy']);
  if (o.limits != null) key.limits = readKeyLimits(c, o.limits, [...path, 'limits'], limits);
  return key;
}

function readApi(c: ConfigChecker, value: unknown, d: ApiConfig, limits: LimitsConfig): ApiConfig {
  const path = ['api'];
  const o = c.mapping(value, path, ['keys']);
  const keys = c.pick(o, path, 'keys', d.keys, (v, p) => c.list(v, p).map((k, i) => readApiKey(c, k, [...p, i], limits)));
  keys.forEach((k, i) => {
    const first = keys.findIndex((other) => other.name === k.name);
    if (first !== i) c.fail([...path, 'keys', i, 'name'], `"${k.name}" is already used by api.keys[${first}]`);
    const sameHash = keys.findIndex((other) => other.hash === k.hash);
    if (sameHash !== i) c.fail([...path, 'keys', i, 'hash'], `is the same as api.keys[${sameHash}].hash`);
  });
  return { keys };
}

function readWebhookSecret(c: ConfigChecker, value: unknown, path: ConfigPath): string {
  const s = c.string(value, path).trim();
  const b64 = s.startsWith('whsec_') ? s.slice(6) : '';
  const valid = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(b64) && b64 !== '';
  // Standard Webhooks asks for 24 to 64 random bytes.
  const bytes = valid ? Buffer.from(b64, 'base64').length : 0;
  if (!valid || bytes < 24 || bytes > 64) {
    c.fail(path, 'must be "whsec_" followed by 24 to 64 random bytes in base64 (e.g. `echo whsec_$(openssl rand -base64 32)`)');
  }
  return s;
}

function readWebhooks(c: ConfigChecker, value: unknown, d: WebhookConfig): WebhookConfig {
  const path = ['webhooks'];
  const o = c.mapping(value, path, ['defaultUrl', 'secrets', 'maxAttempts', 'timeoutMs', 'directFirstAttempt', 'allowPrivateTargets']);
  const allowPrivateTargets = c.pick(o, path, 'allowPrivateTargets', d.allowPrivateTargets, (v, p) =>
    readCidrList(c, v, p, { nonEmpty: false }));
  const policy = webhookEgressPolicy({ allowPrivateTargets });
  return {
    defaultUrl: c.pick<string | undefined>(o, path, 'defaultUrl', d.defaultUrl, (v, p) => {
      const s = c.string(v, p).trim();
      // The same rule as a verification's callbackUrl: a config file is no licence to post inward.
      const r = checkCallbackUrl(s, policy);
      if (!r.ok) c.fail(p, `${r.problem}, got ${JSON.stringify(s)}`);
      return s;
    }),
    secrets: c.pick(o, path, 'secrets', d.secrets, (v, p) => c.list(v, p).map((s, i) => readWebhookSecret(c, s, [...p, i]))),
    maxAttempts: c.pick(o, path, 'maxAttempts', d.maxAttempts, (v, p) => c.int(v, p, 1, 100)),
    timeoutMs: c.pick(o, path, 'timeoutMs', d.timeoutMs, (v, p) => c.int(v, p, 100, 120_000)),
    directFirstAttempt: c.pick(o, path, 'directFirstAttempt', d.directFirstAttempt, (v, p) => readBoolean(c, v, p)),
    allowPrivateTargets,
  };
}

function readVerification(c: ConfigChecker, value: unknown, d: VerificationConfig): VerificationConfig {
  const path = ['verification'];
  const o = c.mapping(value, path, ['defaultTtlSeconds', 'minTtlSeconds', 'maxTtlSeconds']);
  const int = (key: string, fallback: number): number => c.pick(o, path, key, fallback, (v, p) => c.int(v, p, 1, 86_400));
  const v: VerificationConfig = {
    minTtlSeconds: int('minTtlSeconds', d.minTtlSeconds),
    maxTtlSeconds: int('maxTtlSeconds', d.maxTtlSeconds),
    defaultTtlSeconds: int('defaultTtlSeconds', d.defaultTtlSeconds),
  };
  if (v.maxTtlSeconds < v.minTtlSeconds) {
    c.fail([...path, 'maxTtlSeconds'], `must not be less than verification.minTtlSeconds (${v.minTtlSeconds}), got ${v.maxTtlSeconds}`);
  }
  if (v.defaultTtlSeconds < v.minTtlSeconds || v.defaultTtlSeconds > v.maxTtlSeconds) {
    c.fail([...path, 'defaultTtlSeconds'], `must be from minTtlSeconds (${v.minTtlSeconds}) to maxTtlSeconds (${v.maxTtlSeconds}), got ${v.defaultTtlSeconds}`);
  }
  return v;
}

/** Turns the merged raw tree (file + environment + flags) into a RingproofConfig, filling gaps with defaults. */
export function validateConfig(c: ConfigChecker, raw: unknown, sourceFile: string | undefined): RingproofConfig {
  const d = defaultConfig();
  const o = c.mapping(raw, [], ROOT_KEYS);
  const http = readHttp(c, o.http, d.http);
  // Before api: a key's limit overrides are filled from the global limits.
  const limits = readLimits(c, o.limits, d.limits);
  // Before abuse: abuse.webhookUrl follows webhooks.allowPrivateTargets.
  const webhooks = readWebhooks(c, o.webhooks, d.webhooks);
  return {
    role: c.pick(o, [], 'role', d.role, (v, p) => c.oneOf(v, p, ROLES)),
    stateDir: c.pick(o, [], 'stateDir', d.stateDir, (v, p) => c.string(v, p)),
    sip: readSip(c, o.sip, d.sip),
    http,
    metrics: readMetrics(c, o.metrics, d.metrics, http),
    log: readLog(c, o.log, d.log),
    trunks: c.pick(o, [], 'trunks', d.trunks, (v, p) => readTrunks(c, v, p)),
    outbound: readOutbound(c, o.outbound, d.outbound),
    redis: readRedis(c, o.redis, d.redis),
    spool: readSpool(c, o.spool, d.spool),
    events: readEvents(c, o.events, d.events),
    pipeline: readPipeline(c, o.pipeline, d.pipeline),
    audit: readAudit(c, o.audit, d.audit),
    dids: c.pick(o, [], 'dids', d.dids, (v, p) => readDids(c, v, p)),
    api: readApi(c, o.api, d.api, limits),
    webhooks,
    verification: readVerification(c, o.verification, d.verification),
    trust: readTrust(c, o.trust, d.trust),
    numbers: readNumbers(c, o.numbers, d.numbers),
    limits,
    abuse: readAbuse(c, o.abuse, d.abuse, webhooks),
    didPool: readDidPool(c, o.didPool, d.didPool),
    shutdownGraceSeconds: c.pick(o, [], 'shutdownGraceSeconds', d.shutdownGraceSeconds, (v, p) => c.int(v, p, 0, 3600)),
    sourceFile,
  };
}
