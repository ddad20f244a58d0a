import type { ConfigChecker, ConfigPath } from './config-checker.js';

/** YAML booleans; environment variables carry text, so "true"/"false" (any case) are read too. */
export function readBoolean(c: ConfigChecker, value: unknown, path: ConfigPath): boolean {
  if (typeof value === 'boolean') return value;
  const text = typeof value === 'string' ? value.trim().toLowerCase() : '';
  if (text === 'true') return true;
  if (text === 'false') return false;
  return c.fail(path, `must be true or false, got ${JSON.stringify(value)}`);
}
