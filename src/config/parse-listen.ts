import { isIP } from 'node:net';
import type { HostPort, ListenSpec, SipTransport } from './config-types.js';

/** Outcome of parsing one operator-written value: the value, or why it is wrong (no key path; the caller adds it). */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function show(text: string): string {
  return JSON.stringify(text);
}

/** Splits "host:port" or "[v6]:port"; an unbracketed IPv6 literal is refused because its port would be ambiguous. */
function splitHostPort(text: string, whole: string): ParseResult<{ host: string; bracketed: boolean; portText: string }> {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') {
      return { ok: false, reason: `${show(whole)}: IPv6 addresses are written like [::1]:5060` };
    }
    return { ok: true, value: { host: text.slice(1, close), bracketed: true, portText: text.slice(close + 2) } };
  }
  const colon = text.lastIndexOf(':');
  if (colon < 0) return { ok: false, reason: `${show(whole)} has no port` };
  const host = text.slice(0, colon);
  if (host.includes(':')) {
    return { ok: false, reason: `${show(whole)}: IPv6 addresses must be in brackets, e.g. [::1]:5060` };
  }
  return { ok: true, value: { host, bracketed: false, portText: text.slice(colon + 1) } };
}

function parsePort(portText: string, whole: string): ParseResult<number> {
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    return { ok: false, reason: `${show(whole)}: port must be from 1 to 65535, got ${show(portText)}` };
  }
  return { ok: true, value: port };
}

/** Parses a SIP listen spec: "udp:0.0.0.0:5060", "tcp:[::1]:5060". The host must be an IP literal (we bind it). */
export function parseListenSpec(raw: string): ParseResult<ListenSpec> {
  const text = raw.trim();
  const m = /^([A-Za-z]+):(.*)$/.exec(text);
  const transport = m?.[1]?.toLowerCase();
  if (!m || (transport !== 'udp' && transport !== 'tcp')) {
    return { ok: false, reason: `${show(text)} must look like udp:0.0.0.0:5060 or tcp:[::1]:5060` };
  }
  const split = splitHostPort(m[2] ?? '', text);
  if (!split.ok) return split;
  const { host, bracketed, portText } = split.value;
  const family = isIP(host) as 0 | 4 | 6;
  if (family === 0) return { ok: false, reason: `${show(text)} is not an IP address` };
  if (family === 6 && !bracketed) return { ok: false, reason: `${show(text)}: IPv6 addresses must be in brackets` };
  if (family === 4 && bracketed) return { ok: false, reason: `${show(text)}: only IPv6 addresses go in brackets` };
  const port = parsePort(portText, text);
  if (!port.ok) return port;
  return { ok: true, value: { transport: transport as SipTransport, host, port: port.value, family, text } };
}

/** Parses "host:port" or "[::1]:8080" for the HTTP listener; the host may be a name such as "localhost". */
export function parseHostPort(raw: string): ParseResult<HostPort> {
  const text = raw.trim();
  const split = splitHostPort(text, text);
  if (!split.ok) return split;
  const { host, bracketed, portText } = split.value;
  const family = isIP(host) as 0 | 4 | 6;
  if (bracketed && family !== 6) return { ok: false, reason: `${show(text)}: only IPv6 addresses go in brackets` };
  if (family === 0 && !HOSTNAME.test(host)) {
    return { ok: false, reason: `${show(text)}: ${show(host)} is neither an IP address nor a host name` };
  }
  const port = parsePort(portText, text);
  if (!port.ok) return port;
  return { ok: true, value: { host, port: port.value } };
}

/** Formats a HostPort back into the form parseHostPort reads, for logs and summaries. */
export function formatHostPort(hp: HostPort): string {
  return isIP(hp.host) === 6 ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}
