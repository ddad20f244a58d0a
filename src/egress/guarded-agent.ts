import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Agent as HttpAgent, type ClientRequestArgs } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions as HttpsAgentOptions } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import type { EgressPolicy, EgressRefusal } from './egress-policy.js';
import { EgressRefusedError } from './egress-refused-error.js';
import { bareAddress } from './egress-ranges.js';

export interface EgressGuardOptions {
  /** The resolver behind the check; default dns.lookup. Tests pass a local one (no network). */
  resolve?: LookupFunction;
  /** Told of every refusal, e.g. to count it in metrics. */
  onRefused?: (refusal: EgressRefusal) => void;
}

export interface GuardedAgentOptions extends HttpsAgentOptions, EgressGuardOptions {
  /** An https.Agent (TLS) instead of an http.Agent. */
  secure?: boolean;
}

type ConnectCallback = (err: Error | null, stream: Duplex) => void;

/**
 * A dns.lookup replacement for net/tls connect: resolves as usual, then refuses the whole answer
 * if any address in it is refused. The addresses it hands back are the ones the socket connects
 * to, so a name that rebinds to a private address after an earlier check is still caught here.
 */
export function guardedLookup(policy: EgressPolicy, opts: EgressGuardOptions = {}): LookupFunction {
  const resolve: LookupFunction = opts.resolve ?? (dnsLookup as unknown as LookupFunction);
  return (hostname, options, callback) => {
    const wantAll = options.all === true;
    resolve(hostname, { ...options, all: true }, (err, answer) => {
      if (err) {
        callback(err, wantAll ? [] : '');
        return;
      }
      const addresses: LookupAddress[] = typeof answer === 'string' ? [{ address: answer, family: isIP(answer) || 4 }] : answer;
      for (const a of addresses) {
        const refusal = policy.check(a.address, hostname);
        if (refusal) {
          opts.onRefused?.(refusal);
          callback(new EgressRefusedError(refusal), wantAll ? [] : '');
          return;
        }
      }
      const first = addresses[0];
      if (!first) {
        const none = Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' });
        callback(none, wantAll ? [] : '');
      } else if (wantAll) callback(null, addresses);
      else callback(null, first.address, first.family);
    });
  };
}

/**
 * The part of createConnection both agents share. net skips `lookup` for an IP literal, so a
 * literal host is checked here before any socket exists; names go through the guarded lookup.
 */
function guardedConnect(
  options: ClientRequestArgs,
  callback: ConnectCallback | undefined,
  policy: EgressPolicy,
  lookup: LookupFunction,
  opts: EgressGuardOptions,
  create: (o: ClientRequestArgs, cb?: ConnectCallback) => Duplex | null | undefined,
): Duplex | null | undefined {
  const host = options.host ?? options.hostname ?? 'localhost';
  const refusal = options.socketPath !== undefined
    ? policy.check('127.0.0.1', `unix:${options.socketPath}`)
    : isIP(bareAddress(host)) !== 0 ? policy.check(bareAddress(host)) : undefined;
  if (refusal) {
    opts.onRefused?.(refusal);
    const err = new EgressRefusedError(refusal);
    if (!callback) throw err;
    // The agent expects the callback after createConnection returns, as a real connect would.
    process.nextTick(callback, err);
    return undefined;
  }
  return create({ ...options, lookup } as ClientRequestArgs, callback);
}

/**
 * An http.Agent (or https.Agent with `secure: true`) that connects only to destinations `policy`
 * allows, judged on the address actually connected to: IP literals before the socket is made,
 * names on every resolution. Use it for every request of a client (`agent:` in http(s).request);
 * a refused request fails with EgressRefusedError (code RP_EGRESS_REFUSED) and nothing is sent.
 */
export function createGuardedAgent(policy: EgressPolicy, opts: GuardedAgentOptions = {}): HttpAgent {
  const { secure, resolve, onRefused, ...agentOptions } = opts;
  const guard: EgressGuardOptions = {
    ...(resolve !== undefined ? { resolve } : {}),
    ...(onRefused !== undefined ? { onRefused } : {}),
  };
  const lookup = guardedLookup(policy, guard);
  const agent = secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  // The agent makes every socket through createConnection (pooled or not), so guarding it guards all.
  const create = agent.createConnection.bind(agent) as (o: ClientRequestArgs, cb?: ConnectCallback) => Duplex | null | undefined;
  agent.createConnection = ((options: ClientRequestArgs, callback?: ConnectCallback) =>
    guardedConnect(options, callback, policy, lookup, guard, create)) as typeof agent.createConnection;
  return agent;
}
