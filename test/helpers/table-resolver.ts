import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';

export type TableResolver = LookupFunction & { calls: string[] };

/**
 * A dns.lookup stand-in that answers from a table, never from the network: each name's answers are
 * used in turn and the last one repeats, so ['127.0.0.2', '127.0.0.1'] is a name that rebinds.
 * Unknown names fail with ENOTFOUND. `calls` lists the names asked for.
 */
export function tableResolver(table: Record<string, string[]>): TableResolver {
  const answers = new Map(Object.entries(table).map(([k, v]) => [k, [...v]]));
  const calls: string[] = [];
  const fn = ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    calls.push(hostname);
    const list = answers.get(hostname) ?? [];
    const next = list.length > 1 ? list.shift() : list[0];
    setImmediate(() => {
      if (next === undefined) {
        callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), options.all ? [] : '');
        return;
      }
      const family = next.includes(':') ? 6 : 4;
      if (options.all) callback(null, [{ address: next, family }] satisfies LookupAddress[]);
      else callback(null, next, family);
    });
  }) as unknown as TableResolver;
  fn.calls = calls;
  return fn;
}
