import { isIP } from 'node:net';
import type { ConfigChecker, ConfigPath } from './config-checker.js';
import type { CliPoolEntry, OutboundConfig, OutboundCredentials, OutboundTrunkConfig, SipTarget } from './config-types.js';
import { parseHostPort } from './parse-listen.js';
import { readBoolean } from './read-boolean.js';
import { readWindow } from './validate-limits.js';
import { readTrunkName } from './validate-trunks.js';

const OUTBOUND_KEYS = ['bindAddress', 'advertiseAddress', 'minRingMs', 'ringTimeoutMs', 'maxQueueMs', 'sdp', 'reportAttempts', 'perNumber', 'fallback', 'reportWindowSeconds', 'trunks'] as const;
const TRUNK_KEYS = [
  'name', 'target', 'outboundProxy', 'domain', 'fromDomain', 'numberFormat', 'pai', 'credentials', 'cps', 'maxConcurrent', 'cliPool',
] as const;
const HOST = /^[A-Za-z0-9.-]{1,253}$/;
/** "+" then 1-15 digits of which the trailing X's (at least 2) are the code digits. */
const CLI_ENTRY = /^\+([1-9][0-9]*)(X*)$/;

/** "udp:sbc.example.net:5060" or "tcp:[2001:db8::1]:5061": a transport, then a host name or IP and a port. */
export function readSipTarget(c: ConfigChecker, value: unknown, path: ConfigPath): SipTarget {
  const text = c.string(value, path).trim();
  const m = /^(udp|tcp):(.*)$/i.exec(text);
  if (!m) c.fail(path, `must look like udp:sbc.example.net:5060 or tcp:192.0.2.10:5060, got ${JSON.stringify(text)}`);
  const hp = parseHostPort(m[2] as string);
  if (!hp.ok) c.fail(path, hp.reason);
  return { transport: (m[1] as string).toLowerCase() as SipTarget['transport'], host: hp.value.host, port: hp.value.port, text };
}

function readHost(c: ConfigChecker, value: unknown, path: ConfigPath): string {
  const s = c.string(value, path).trim();
  if (!HOST.test(s) && isIP(s) === 0) c.fail(path, `must be a host name or IP address, got ${JSON.stringify(s)}`);
  return s;
}

function readIp(c: ConfigChecker, value: unknown, path: ConfigPath): string {
  const s = c.string(value, path).trim();
  if (isIP(s) === 0) c.fail(path, `must be an IP address, got ${JSON.stringify(s)}`);
  return s;
}

function readCredentials(c: ConfigChecker, value: unknown, path: ConfigPath): OutboundCredentials {
  const o = c.mapping(value, path, ['username', 'password', 'realm']);
  c.required(o, path, 'username');
  c.required(o, path, 'password');
  const quoted = (v: unknown, p: ConfigPath): string => {
    const s = c.string(v, p);
    // Written into a quoted-string of the Authorization header: no quote, backslash or line break.
    if (/["\\\r\n]/.test(s)) c.fail(p, 'must not contain quotes, backslashes or line breaks');
    return s;
  };
  return {
    username: quoted(o.username, [...path, 'username']),
    password: c.string(o.password, [...path, 'password']),
    realm: c.pick<string | undefined>(o, path, 'realm', undefined, (v, p) => quoted(v, p)),
  };
}

function readCliEntry(c: ConfigChecker, value: unknown, path: ConfigPath): CliPoolEntry {
  const text = c.string(value, path).trim();
  const m = CLI_ENTRY.exec(text);
  const digits = m ? (m[2] as string).length : 0;
  if (!m || text.length > 16 || (digits > 0 && digits < 2) || digits > 8) {
    c.fail(path, `must be an E.164 number ("+442079460123") or one ending in 2 to 8 X's for the code digits ("+44207946XXXX"), got ${JSON.stringify(text)}`);
  }
  return { prefix: `+${m[1] as string}`, digits, text };
}

function readCliPool(c: ConfigChecker, value: unknown, path: ConfigPath): CliPoolEntry[] {
  const items = c.list(value, path);
  if (items.length === 0) c.fail(path, 'must list at least one caller ID ("+442079460123" or "+44207946XXXX")');
  const out = items.map((item, i) => readCliEntry(c, item, [...path, i]));
  out.forEach((e, i) => {
    const first = out.findIndex((f) => f.text === e.text);
    if (first !== i) c.fail([...path, i], `${JSON.stringify(e.text)} is listed twice`);
  });
  return out;
}

function readTrunk(c: ConfigChecker, value: unknown, path: ConfigPath): OutboundTrunkConfig {
  const o = c.mapping(value, path, TRUNK_KEYS);
  const required = (key: string): unknown => c.required(o, path, key);
  const name = readTrunkName(c, required('name'), [...path, 'name']);
  const target = readSipTarget(c, required('target'), [...path, 'target']);
  const domain = c.pick(o, path, 'domain', target.host, (v, p) => readHost(c, v, p));
  return {
    name,
    target,
    outboundProxy: c.pick<SipTarget | undefined>(o, path, 'outboundProxy', undefined, (v, p) => readSipTarget(c, v, p)),
    domain,
    fromDomain: c.pick(o, path, 'fromDomain', domain, (v, p) => readHost(c, v, p)),
    numberFormat: c.pick(o, path, 'numberFormat', 'e164', (v, p) => c.oneOf(v, p, ['e164', 'digits'] as const)),
    pai: c.pick(o, path, 'pai', true, (v, p) => readBoolean(c, v, p)),
    credentials: c.pick<OutboundCredentials | undefined>(o, path, 'credentials', undefined, (v, p) => readCredentials(c, v, p)),
    cps: c.pick(o, path, 'cps', 10, (v, p) => c.int(v, p, 1, 10_000)),
    maxConcurrent: c.pick(o, path, 'maxConcurrent', 50, (v, p) => c.int(v, p, 1, 100_000)),
    cliPool: readCliPool(c, required('cliPool'), [...path, 'cliPool']),
  };
}

export function readOutbound(c: ConfigChecker, value: unknown, d: OutboundConfig): OutboundConfig {
  const path = ['outbound'];
  const o = c.mapping(value, path, OUTBOUND_KEYS);
  const trunks = c.pick(o, path, 'trunks', d.trunks, (v, p) => c.list(v, p).map((t, i) => readTrunk(c, t, [...p, i])));
  trunks.forEach((t, i) => {
    const first = trunks.findIndex((u) => u.name === t.name);
    if (first !== i) c.fail([...path, 'trunks', i, 'name'], `"${t.name}" is already used by outbound.trunks[${first}]`);
  });
  const out: OutboundConfig = {
    bindAddress: c.pick(o, path, 'bindAddress', d.bindAddress, (v, p) => readIp(c, v, p)),
    advertiseAddress: c.pick<string | undefined>(o, path, 'advertiseAddress', d.advertiseAddress, (v, p) => readHost(c, v, p)),
    minRingMs: c.pick(o, path, 'minRingMs', d.minRingMs, (v, p) => c.int(v, p, 0, 60_000)),
    ringTimeoutMs: c.pick(o, path, 'ringTimeoutMs', d.ringTimeoutMs, (v, p) => c.int(v, p, 100, 120_000)),
    maxQueueMs: c.pick(o, path, 'maxQueueMs', d.maxQueueMs, (v, p) => c.int(v, p, 0, 60_000)),
    sdp: c.pick(o, path, 'sdp', d.sdp, (v, p) => readBoolean(c, v, p)),
    reportAttempts: c.pick(o, path, 'reportAttempts', d.reportAttempts, (v, p) => c.int(v, p, 1, 10)),
    perNumber: c.pick(o, path, 'perNumber', d.perNumber, (v, p) => readWindow(c, v, p, d.perNumber)),
    fallback: c.pick(o, path, 'fallback', d.fallback, (v, p) => c.oneOf(v, p, ['inbound_call', 'none'] as const)),
    reportWindowSeconds: c.pick(o, path, 'reportWindowSeconds', d.reportWindowSeconds, (v, p) => c.int(v, p, 1, 300)),
    trunks,
  };
  if (out.minRingMs >= out.ringTimeoutMs) {
    c.fail([...path, 'minRingMs'], `must be less than outbound.ringTimeoutMs (${out.ringTimeoutMs}), got ${out.minRingMs}`);
  }
  return out;
}
