import type { ConfigChecker, ConfigPath } from './config-checker.js';
import { parseCidr } from './parse-cidr.js';

/** A list of addresses or CIDRs ("203.0.113.7", "10.0.0.0/8", "fd00::/8"), each checked and trimmed. */
export function readCidrList(c: ConfigChecker, value: unknown, path: ConfigPath, opts: { nonEmpty: boolean }): string[] {
  const items = c.list(value, path);
  if (opts.nonEmpty && items.length === 0) c.fail(path, 'must list at least one address or CIDR');
  return items.map((item, i) => {
    const text = c.string(item, [...path, i]).trim();
    const parsed = parseCidr(text);
    if (!parsed.ok) c.fail([...path, i], parsed.reason);
    return text;
  });
}
