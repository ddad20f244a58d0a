import type { ConfigChecker } from './config-checker.js';
import type { TrustConfig } from './config-types.js';

const FAILED: readonly TrustConfig['failed'][] = ['reject', 'accept'];
const MIN_ATTESTATIONS: readonly TrustConfig['minAttestation'][] = ['none', 'C', 'B', 'A'];

/** The `trust` section: the caller-trust policy the worker applies to calls that match a session. */
export function readTrust(c: ConfigChecker, value: unknown, d: TrustConfig): TrustConfig {
  const path = ['trust'];
  const o = c.mapping(value, path, ['failed', 'minAttestation']);
  return {
    failed: c.pick(o, path, 'failed', d.failed, (v, p) => c.oneOf(v, p, FAILED)),
    minAttestation: c.pick(o, path, 'minAttestation', d.minAttestation, (v, p) => c.oneOf(v, p, MIN_ATTESTATIONS)),
  };
}
