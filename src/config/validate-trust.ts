import type { ConfigChecker, ConfigPath } from './config-checker.js';
import type { IdentityTrustConfig, TrustConfig } from './config-types.js';
import { readBoolean } from './read-boolean.js';

const FAILED: readonly TrustConfig['failed'][] = ['reject', 'accept'];
const MIN_ATTESTATIONS: readonly TrustConfig['minAttestation'][] = ['none', 'C', 'B', 'A'];
const PER_VERIFICATION: readonly TrustConfig['perVerification'][] = ['tighten', 'any'];
const IDENTITY_KEYS = [
  'anchorsFile', 'certificateDir', 'fetchX5u', 'allowPrivateX5u', 'maxAgeSeconds', 'futureSkewSeconds', 'crlFiles', 'crlSignersFile', 'crlRefreshSeconds',
];

function readIdentity(c: ConfigChecker, value: unknown, path: ConfigPath, d: IdentityTrustConfig): IdentityTrustConfig {
  const o = c.mapping(value, path, IDENTITY_KEYS);
  const text = (key: string, fallback: string | undefined): string | undefined =>
    c.pick(o, path, key, fallback, (v, p) => c.string(v, p).trim());
  return {
    anchorsFile: text('anchorsFile', d.anchorsFile),
    certificateDir: text('certificateDir', d.certificateDir),
    fetchX5u: c.pick(o, path, 'fetchX5u', d.fetchX5u, (v, p) => readBoolean(c, v, p)),
    allowPrivateX5u: c.pick(o, path, 'allowPrivateX5u', d.allowPrivateX5u, (v, p) => readBoolean(c, v, p)),
    maxAgeSeconds: c.pick(o, path, 'maxAgeSeconds', d.maxAgeSeconds, (v, p) => c.int(v, p, 1, 3600)),
    futureSkewSeconds: c.pick(o, path, 'futureSkewSeconds', d.futureSkewSeconds, (v, p) => c.int(v, p, 0, 300)),
    crlFiles: c.pick(o, path, 'crlFiles', d.crlFiles, (v, p) => c.list(v, p).map((f, i) => c.string(f, [...p, i]).trim())),
    crlSignersFile: text('crlSignersFile', d.crlSignersFile),
    crlRefreshSeconds: c.pick(o, path, 'crlRefreshSeconds', d.crlRefreshSeconds, (v, p) => c.int(v, p, 10, 86_400)),
  };
}

/** The `trust` section: the caller-trust policy the worker applies to calls that match a session. */
export function readTrust(c: ConfigChecker, value: unknown, d: TrustConfig): TrustConfig {
  const path = ['trust'];
  const o = c.mapping(value, path, ['failed', 'minAttestation', 'requireNetworkAsserted', 'perVerification', 'identity']);
  return {
    failed: c.pick(o, path, 'failed', d.failed, (v, p) => c.oneOf(v, p, FAILED)),
    minAttestation: c.pick(o, path, 'minAttestation', d.minAttestation, (v, p) => c.oneOf(v, p, MIN_ATTESTATIONS)),
    requireNetworkAsserted: c.pick(o, path, 'requireNetworkAsserted', d.requireNetworkAsserted, (v, p) => readBoolean(c, v, p)),
    perVerification: c.pick(o, path, 'perVerification', d.perVerification, (v, p) => c.oneOf(v, p, PER_VERIFICATION)),
    identity: readIdentity(c, o.identity, [...path, 'identity'], d.identity),
  };
}
