import type { ClusterOptions, RedisOptions } from 'ioredis';
import { ErrorCodes } from '../errors/codes.js';
import { RingproofError } from '../errors/ringproof-error.js';

/**
 * What a Redis URL means for ioredis, before any role-specific options are layered on.
 *
 * Accepted forms:
 * - `redis://[user:pass@]host:port[/db]`, `rediss://…` (TLS): standalone.
 * - `redis-sentinel://[user:pass@]host1:port,host2:port/masterName[?db=0&sentinelPassword=…&sentinelUsername=…&role=slave&tls=true]`
 *   The credentials are the data node's; Sentinel's own go in the query (they are usually different).
 * - `redis-cluster://[user:pass@]host1:port,host2:port[?tls=true]`: startup nodes of a Cluster.
 * - `unix:///path/to/redis.sock[?db=0]` or `redis+unix:///path…`: a local socket (the embedded redis-server).
 */
export type ParsedRedisUrl =
  | { kind: 'standalone'; options: RedisOptions }
  | { kind: 'sentinel'; options: RedisOptions }
  | { kind: 'cluster'; nodes: Array<{ host: string; port: number }>; options: ClusterOptions };

const DEFAULT_PORT = 6379;
const DEFAULT_SENTINEL_PORT = 26379;

export function parseRedisUrl(url: string): ParsedRedisUrl {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(url.trim());
  if (!m) throw invalid(url, 'is not a URL; use redis://host:6379, rediss://, redis-sentinel://, redis-cluster:// or unix://');
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;
  switch (scheme) {
    case 'redis':
    case 'rediss':
      return { kind: 'standalone', options: parseStandalone(url, scheme === 'rediss') };
    case 'unix':
    case 'redis+unix':
      return { kind: 'standalone', options: parseUnix(url, rest) };
    case 'redis-sentinel':
    case 'rediss-sentinel':
      return { kind: 'sentinel', options: parseSentinel(url, rest, scheme === 'rediss-sentinel') };
    case 'redis-cluster':
    case 'rediss-cluster':
      return parseCluster(url, rest, scheme === 'rediss-cluster');
    default:
      throw invalid(url, `unknown scheme: must be redis, rediss, redis-sentinel, redis-cluster or unix, got "${scheme}"`);
  }
}

/**
 * Why `url` is no Redis URL ringproof can use, or undefined when it is one. The configuration check
 * asks this, so a URL is accepted at start-up exactly when it can be connected to (multi-host
 * Sentinel and Cluster URLs are no WHATWG URLs, so `new URL()` is no test for them).
 */
export function redisUrlProblem(url: string): string | undefined {
  try {
    parseRedisUrl(url);
    return undefined;
  } catch (err) {
    if (err instanceof RedisUrlError) return err.reason;
    throw err;
  }
}

/** The URL with its password replaced, safe for logs. */
export function redactRedisUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/]*)@/i, (_all, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon === -1 ? `${scheme}***@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
  }).replace(/((?:sentinelP|p)assword=)[^&]*/gi, '$1***');
}

function parseStandalone(url: string, tls: boolean): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalid(url, 'not a valid URL');
  }
  const opts: RedisOptions = { host: stripBrackets(u.hostname) || 'localhost', port: u.port ? Number(u.port) : DEFAULT_PORT };
  Object.assign(opts, credentials(u.username, u.password));
  const db = dbFromPath(url, u.pathname) ?? dbFromQuery(url, u.searchParams);
  if (db !== undefined) opts.db = db;
  if (tls || u.searchParams.get('tls') === 'true') opts.tls = {};
  return opts;
}

function parseUnix(url: string, rest: string): RedisOptions {
  const q = rest.indexOf('?');
  const path = decodeURIComponent(q === -1 ? rest : rest.slice(0, q));
  if (!path.startsWith('/')) throw invalid(url, 'a unix socket URL needs an absolute path: unix:///path/to/redis.sock');
  const opts: RedisOptions = { path };
  if (q !== -1) {
    const db = dbFromQuery(url, new URLSearchParams(rest.slice(q + 1)));
    if (db !== undefined) opts.db = db;
  }
  return opts;
}

function parseSentinel(url: string, rest: string, tls: boolean): RedisOptions {
  const { userinfo, hosts, path, query } = splitMultiHost(url, rest);
  const name = decodeURIComponent(path.replace(/^\//, ''));
  if (!name || name.includes('/')) throw invalid(url, 'the master name is missing: redis-sentinel://host:26379/mymaster');
  const opts: RedisOptions = {
    sentinels: hosts.map((h) => parseHostPort(url, h, DEFAULT_SENTINEL_PORT)),
    name,
    ...userinfoCredentials(userinfo),
  };
  const db = dbFromQuery(url, query);
  if (db !== undefined) opts.db = db;
  const sp = query.get('sentinelPassword');
  if (sp !== null) opts.sentinelPassword = sp;
  const su = query.get('sentinelUsername');
  if (su !== null) opts.sentinelUsername = su;
  const role = query.get('role');
  if (role !== null) {
    if (role !== 'master' && role !== 'slave') throw invalid(url, 'role must be master or slave');
    opts.role = role;
  }
  if (tls || query.get('tls') === 'true') {
    opts.tls = {};
    opts.enableTLSForSentinelMode = true;
  }
  return opts;
}

function parseCluster(url: string, rest: string, tls: boolean): ParsedRedisUrl {
  const { userinfo, hosts, path, query } = splitMultiHost(url, rest);
  if (path && path !== '/') throw invalid(url, 'a cluster URL takes no path (Cluster has only db 0)');
  const redisOptions: NonNullable<ClusterOptions['redisOptions']> = { ...userinfoCredentials(userinfo) };
  if (tls || query.get('tls') === 'true') redisOptions.tls = {};
  return {
    kind: 'cluster',
    nodes: hosts.map((h) => parseHostPort(url, h, DEFAULT_PORT)),
    options: { redisOptions },
  };
}

/** WHATWG URL cannot hold "h1:p1,h2:p2", so multi-host URLs are split by hand. */
function splitMultiHost(url: string, rest: string): {
  userinfo: string | undefined; hosts: string[]; path: string; query: URLSearchParams;
} {
  const q = rest.indexOf('?');
  const beforeQuery = q === -1 ? rest : rest.slice(0, q);
  const query = new URLSearchParams(q === -1 ? '' : rest.slice(q + 1));
  const at = beforeQuery.lastIndexOf('@');
  const userinfo = at === -1 ? undefined : beforeQuery.slice(0, at);
  const afterAuth = at === -1 ? beforeQuery : beforeQuery.slice(at + 1);
  const slash = afterAuth.indexOf('/');
  const hostList = slash === -1 ? afterAuth : afterAuth.slice(0, slash);
  const path = slash === -1 ? '' : afterAuth.slice(slash);
  const hosts = hostList.split(',').map((h) => h.trim()).filter((h) => h.length > 0);
  if (hosts.length === 0) throw invalid(url, 'no host given');
  return { userinfo, hosts, path, query };
}

function parseHostPort(url: string, text: string, defaultPort: number): { host: string; port: number } {
  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) throw invalid(url, `bad IPv6 address "${text}"`);
    host = text.slice(1, close);
    const after = text.slice(close + 1);
    if (after && !after.startsWith(':')) throw invalid(url, `bad host "${text}"`);
    portText = after ? after.slice(1) : undefined;
  } else {
    const parts = text.split(':');
    if (parts.length > 2) throw invalid(url, `IPv6 addresses need brackets: "[${text}]"`);
    host = parts[0]!;
    portText = parts[1];
  }
  if (!host) throw invalid(url, `empty host in "${text}"`);
  const port = portText === undefined || portText === '' ? defaultPort : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(url, `bad port in "${text}"`);
  return { host, port };
}

function userinfoCredentials(userinfo: string | undefined): { username?: string; password?: string } {
  if (userinfo === undefined) return {};
  const colon = userinfo.indexOf(':');
  return colon === -1
    ? credentials(userinfo, '')
    : credentials(userinfo.slice(0, colon), userinfo.slice(colon + 1));
}

function credentials(user: string, pass: string): { username?: string; password?: string } {
  const out: { username?: string; password?: string } = {};
  // "redis://:secret@host" is the common password-only form (default user).
  if (user) out.username = decodeURIComponent(user);
  if (pass) out.password = decodeURIComponent(pass);
  return out;
}

function dbFromPath(url: string, pathname: string): number | undefined {
  const p = pathname.replace(/^\//, '');
  return p ? toDb(url, p) : undefined;
}

function dbFromQuery(url: string, query: URLSearchParams): number | undefined {
  const v = query.get('db');
  return v === null ? undefined : toDb(url, v);
}

function toDb(url: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isInteger(n)) throw invalid(url, `db must be a number, got "${text}"`);
  return n;
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

class RedisUrlError extends RingproofError {
  constructor(url: string, readonly reason: string) {
    super(ErrorCodes.CONFIG_INVALID, `redis.url "${redactRedisUrl(url)}": ${reason}`);
  }
}

function invalid(url: string, why: string): RingproofError {
  return new RedisUrlError(url, why);
}
