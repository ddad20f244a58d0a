import { isSupportedCountry } from 'libphonenumber-js';
import type { ConfigChecker, ConfigPath } from './config-checker.js';
import type { CliSource, TrunkConfig } from './config-types.js';
import { readCidrList } from './read-cidr-list.js';

const TRUNK_KEYS = ['name', 'sources', 'defaultCountry', 'rejectCode', 'cliSources'] as const;
const CLI_SOURCES: readonly CliSource[] = ['pai', 'rpid', 'from'];

function readCliSources(c: ConfigChecker, value: unknown, path: ConfigPath): CliSource[] {
  const items = c.list(value, path);
  if (items.length === 0) c.fail(path, 'must list at least one of "pai", "rpid", "from"');
  const out: CliSource[] = [];
  items.forEach((item, i) => {
    const src = c.oneOf(item, [...path, i], CLI_SOURCES);
    if (out.includes(src)) c.fail([...path, i], `"${src}" is listed twice`);
    out.push(src);
  });
  return out;
}

/** A trunk name (inbound or outbound): it appears in metrics labels and call events. */
export function readTrunkName(c: ConfigChecker, value: unknown, path: ConfigPath): string {
  const name = c.string(value, path);
  if (!/^[a-z0-9_-]{1,64}$/.test(name)) c.fail(path, `must be 1-64 characters of a-z, 0-9, "_" or "-", got ${JSON.stringify(name)}`);
  return name;
}

function readTrunk(c: ConfigChecker, value: unknown, path: ConfigPath): TrunkConfig {
  const o = c.mapping(value, path, TRUNK_KEYS);
  const required = (key: string): unknown => c.required(o, path, key);
  const name = readTrunkName(c, required('name'), [...path, 'name']);
  const sources = readCidrList(c, required('sources'), [...path, 'sources'], { nonEmpty: true });
  const country = c.string(required('defaultCountry'), [...path, 'defaultCountry']);
  if (!/^[A-Z]{2}$/.test(country) || !isSupportedCountry(country)) {
    c.fail([...path, 'defaultCountry'], `must be a known two-letter country code in capitals such as "US" or "GB", got ${JSON.stringify(country)}`);
  }
  return {
    name,
    sources,
    defaultCountry: country,
    rejectCode: c.pick(o, path, 'rejectCode', 486, (v, p) => c.oneOf(v, p, [486, 603] as const)),
    cliSources: c.pick(o, path, 'cliSources', [...CLI_SOURCES], (v, p) => readCliSources(c, v, p)),
  };
}

export function readTrunks(c: ConfigChecker, value: unknown, path: ConfigPath): TrunkConfig[] {
  const trunks = c.list(value, path).map((t, i) => readTrunk(c, t, [...path, i]));
  trunks.forEach((t, i) => {
    const first = trunks.findIndex((u) => u.name === t.name);
    if (first !== i) c.fail([...path, i, 'name'], `"${t.name}" is already used by trunks[${first}]`);
  });
  return trunks;
}
