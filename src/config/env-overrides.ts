import { configInvalid } from './config-checker.js';
import { emptyLayer, setIn, type ConfigLayer } from './config-layer.js';

export type EnvLike = NodeJS.ProcessEnv | Record<string, string | undefined>;

type EnvKind = 'text' | 'list';

/** Environment variable → config key. Order matters where two name one key: the later one wins. */
export const ENV_VARS: ReadonlyArray<{ name: string; path: readonly string[]; kind: EnvKind }> = [
  { name: 'RINGPROOF_ROLE', path: ['role'], kind: 'text' },
  { name: 'RINGPROOF_STATE_DIR', path: ['stateDir'], kind: 'text' },
  { name: 'RINGPROOF_SIP_LISTEN', path: ['sip', 'listen'], kind: 'list' },
  { name: 'RINGPROOF_SIP_ENGINE', path: ['sip', 'engine'], kind: 'text' },
  { name: 'RINGPROOF_SIP_UNKNOWN_SOURCE', path: ['sip', 'unknownSource'], kind: 'text' },
  { name: 'RINGPROOF_SIP_MAX_MESSAGE_BYTES', path: ['sip', 'maxMessageBytes'], kind: 'text' },
  { name: 'RINGPROOF_DRACHTIO_HOST', path: ['sip', 'drachtio', 'host'], kind: 'text' },
  { name: 'RINGPROOF_DRACHTIO_PORT', path: ['sip', 'drachtio', 'port'], kind: 'text' },
  { name: 'RINGPROOF_DRACHTIO_SECRET', path: ['sip', 'drachtio', 'secret'], kind: 'text' },
  { name: 'RINGPROOF_HTTP_LISTEN', path: ['http', 'listen'], kind: 'text' },
  { name: 'RINGPROOF_EVENT_SINK', path: ['events', 'sink'], kind: 'text' },
  { name: 'RINGPROOF_LOG_LEVEL', path: ['log', 'level'], kind: 'text' },
  // REDIS_URL is the common convention (Heroku, compose files); the prefixed name wins when both are set.
  { name: 'REDIS_URL', path: ['redis', 'url'], kind: 'text' },
  { name: 'RINGPROOF_REDIS_URL', path: ['redis', 'url'], kind: 'text' },
  { name: 'RINGPROOF_REDIS_KEY_PREFIX', path: ['redis', 'keyPrefix'], kind: 'text' },
  { name: 'RINGPROOF_DIDS', path: ['dids'], kind: 'list' },
  { name: 'RINGPROOF_WEBHOOK_URL', path: ['webhooks', 'defaultUrl'], kind: 'text' },
  { name: 'RINGPROOF_WEBHOOK_SECRETS', path: ['webhooks', 'secrets'], kind: 'list' },
  { name: 'RINGPROOF_WEBHOOK_DIRECT_FIRST_ATTEMPT', path: ['webhooks', 'directFirstAttempt'], kind: 'text' },
  { name: 'RINGPROOF_WEBHOOK_ALLOW_PRIVATE_TARGETS', path: ['webhooks', 'allowPrivateTargets'], kind: 'list' },
  { name: 'RINGPROOF_METRICS_LISTEN', path: ['metrics', 'listen'], kind: 'text' },
  { name: 'RINGPROOF_TRUST_FAILED', path: ['trust', 'failed'], kind: 'text' },
  { name: 'RINGPROOF_TRUST_MIN_ATTESTATION', path: ['trust', 'minAttestation'], kind: 'text' },
  { name: 'RINGPROOF_TRUST_REQUIRE_NETWORK_ASSERTED', path: ['trust', 'requireNetworkAsserted'], kind: 'text' },
  { name: 'RINGPROOF_TRUST_PER_VERIFICATION', path: ['trust', 'perVerification'], kind: 'text' },
  { name: 'RINGPROOF_TRUST_ANCHORS_FILE', path: ['trust', 'identity', 'anchorsFile'], kind: 'text' },
  { name: 'RINGPROOF_TRUST_CERTIFICATE_DIR', path: ['trust', 'identity', 'certificateDir'], kind: 'text' },
  { name: 'RINGPROOF_DENY_PREFIXES_FILE', path: ['numbers', 'denyPrefixesFile'], kind: 'text' },
  { name: 'RINGPROOF_CREATE_LIMITS_ENABLED', path: ['limits', 'create', 'enabled'], kind: 'text' },
  { name: 'RINGPROOF_ABUSE_WEBHOOK_URL', path: ['abuse', 'webhookUrl'], kind: 'text' },
  { name: 'RINGPROOF_CALL_LIMITS_ENABLED', path: ['limits', 'calls', 'enabled'], kind: 'text' },
  { name: 'RINGPROOF_PIPELINE_WORKER_THREAD', path: ['pipeline', 'workerThread'], kind: 'text' },
];

/** Empty means unset, so `FOO=` in a compose file does not override the file with an empty value. */
export function envValue(env: EnvLike, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function splitList(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function parseApiKeys(text: string): Array<{ name: string; hash: string; admin?: boolean }> {
  return splitList(text).map((entry, i) => {
    const colon = entry.indexOf(':');
    if (colon <= 0) {
      // The entry is not echoed: it may be a pasted token.
      throw configInvalid(['api', 'keys', i], 'must look like name:sha256:<64 hex digits>', 'env RINGPROOF_API_KEYS');
    }
    // name:sha256:<hex>:admin gives the key the admin scope.
    const rest = entry.slice(colon + 1);
    const admin = rest.endsWith(':admin');
    return { name: entry.slice(0, colon), hash: admin ? rest.slice(0, -':admin'.length) : rest, ...(admin ? { admin: true } : {}) };
  });
}

function parseTrunks(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw configInvalid(['trunks'], `is not valid JSON: ${(err as Error).message}`, 'env RINGPROOF_TRUNKS');
  }
}

/** Reads the RINGPROOF_* overrides (and REDIS_URL) into a raw layer; values stay text and are checked later. */
export function envLayer(env: EnvLike): ConfigLayer {
  const layer = emptyLayer();
  for (const { name, path, kind } of ENV_VARS) {
    const v = envValue(env, name);
    if (v === undefined) continue;
    setIn(layer, path, kind === 'list' ? splitList(v) : v, { label: `env ${name}`, text: true });
  }
  const keys = envValue(env, 'RINGPROOF_API_KEYS');
  if (keys !== undefined) setIn(layer, ['api', 'keys'], parseApiKeys(keys), { label: 'env RINGPROOF_API_KEYS', text: true });
  const trunks = envValue(env, 'RINGPROOF_TRUNKS');
  // JSON carries its own types, so "486" in it is a string like in the file, not text to read a number from.
  if (trunks !== undefined) setIn(layer, ['trunks'], parseTrunks(trunks), { label: 'env RINGPROOF_TRUNKS', text: false });
  return layer;
}
