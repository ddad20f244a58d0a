import { createHash } from 'node:crypto';

/**
 * The form API keys are stored in (config api.keys[].hash, RINGPROOF_API_KEYS): "sha256:<64 hex>" of the
 * bearer token's UTF-8 bytes. Only hashes live in config, so a leaked config file leaks no credentials.
 */
export function hashApiKey(token: string): string {
  return `sha256:${createHash('sha256').update(token, 'utf8').digest('hex')}`;
}
