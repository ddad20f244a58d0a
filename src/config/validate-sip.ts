import { formatPath, type ConfigChecker, type ConfigPath } from './config-checker.js';
import type { DrachtioConfig, ListenSpec, SipConfig } from './config-types.js';
import { parseListenSpec } from './parse-listen.js';

const SIP_KEYS = [
  'engine', 'listen', 'unknownSource', 'maxMessageBytes', 'maxTransactions', 't1Ms', 't2Ms', 't4Ms',
  'tcpIdleTimeoutMs', 'maxTcpConnections', 'scannerUserAgents', 'serverHeader', 'drachtio',
] as const;

function readListen(c: ConfigChecker, value: unknown, path: ConfigPath): ListenSpec[] {
  const items = c.list(value, path);
  if (items.length === 0) c.fail(path, 'must list at least one address, e.g. udp:0.0.0.0:5060');
  const seen = new Map<string, number>();
  return items.map((item, i) => {
    const parsed = parseListenSpec(c.string(item, [...path, i]));
    if (!parsed.ok) c.fail([...path, i], parsed.reason);
    const spec = parsed.value;
    const key = `${spec.transport}:${spec.host.toLowerCase()}:${spec.port}`;
    const first = seen.get(key);
    if (first !== undefined) c.fail([...path, i], `${JSON.stringify(spec.text)} duplicates ${formatPath([...path, first])}`);
    seen.set(key, i);
    return spec;
  });
}

function readDrachtio(c: ConfigChecker, value: unknown, path: ConfigPath, d: DrachtioConfig): DrachtioConfig {
  const o = c.mapping(value, path, ['host', 'port', 'secret']);
  return {
    host: c.pick(o, path, 'host', d.host, (v, p) => c.string(v, p)),
    port: c.pick(o, path, 'port', d.port, (v, p) => c.int(v, p, 1, 65535)),
    secret: c.pick(o, path, 'secret', d.secret, (v, p) => c.string(v, p)),
  };
}

export function readSip(c: ConfigChecker, value: unknown, d: SipConfig): SipConfig {
  const path = ['sip'];
  const o = c.mapping(value, path, SIP_KEYS);
  const int = (key: string, fallback: number, min: number, max: number): number =>
    c.pick(o, path, key, fallback, (v, p) => c.int(v, p, min, max));
  const sip: SipConfig = {
    engine: c.pick(o, path, 'engine', d.engine, (v, p) => c.oneOf(v, p, ['native', 'drachtio'] as const)),
    listen: c.pick(o, path, 'listen', d.listen, (v, p) => readListen(c, v, p)),
    unknownSource: c.pick(o, path, 'unknownSource', d.unknownSource, (v, p) => c.oneOf(v, p, ['reject', 'drop'] as const)),
    maxMessageBytes: int('maxMessageBytes', d.maxMessageBytes, 512, 65535),
    maxTransactions: int('maxTransactions', d.maxTransactions, 1, 10_000_000),
    t1Ms: int('t1Ms', d.t1Ms, 10, 60_000),
    t2Ms: int('t2Ms', d.t2Ms, 10, 600_000),
    t4Ms: int('t4Ms', d.t4Ms, 10, 600_000),
    tcpIdleTimeoutMs: int('tcpIdleTimeoutMs', d.tcpIdleTimeoutMs, 1000, 86_400_000),
    maxTcpConnections: int('maxTcpConnections', d.maxTcpConnections, 1, 1_000_000),
    scannerUserAgents: c.pick(o, path, 'scannerUserAgents', d.scannerUserAgents, (v, p) =>
      c.list(v, p).map((ua, i) => c.string(ua, [...p, i]).trim()),
    ),
    serverHeader: c.pick(o, path, 'serverHeader', d.serverHeader, (v, p) => {
      const s = c.string(v, p, { allowEmpty: true });
      // It goes verbatim into every response: no control characters, so no header injection.
      if (!/^[\x20-\x7e]*$/.test(s)) c.fail(p, 'must be printable ASCII on one line');
      return s.trim();
    }),
    drachtio: c.pick(o, path, 'drachtio', d.drachtio, (v, p) => readDrachtio(c, v, p, d.drachtio)),
  };
  // Timer G doubles from T1 up to T2, so T1 must be the smaller.
  if (sip.t1Ms >= sip.t2Ms) c.fail([...path, 't2Ms'], `must be greater than sip.t1Ms (${sip.t1Ms}), got ${sip.t2Ms}`);
  return sip;
}
