import type { ConfigChecker, ConfigPath } from './config-checker.js';
import type { HostPort } from './config-types.js';
import { parseHostPort } from './parse-listen.js';

/** A "host:port" listener address (http.listen, metrics.listen); the error names the key. */
export function readHostPort(c: ConfigChecker, value: unknown, path: ConfigPath): HostPort {
  const parsed = parseHostPort(c.string(value, path));
  if (!parsed.ok) c.fail(path, parsed.reason);
  return parsed.value;
}
