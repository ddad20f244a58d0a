import { createSocket } from 'node:dgram';
import type { OutboundConfig, OutboundTrunkConfig, SipTransport } from '../../src/config/config-types.js';
import { afterEach } from 'vitest';
import { type SippUas, type SippUasResult, startSippUas } from './sipp-uas.js';

/** Shared parts of the flash-call UAC tests (test/e2e/flash-uac.test.ts, test/drachtio/flash-uac.drachtio.ts). */
export const FLASH_TO = '+447700900123';
export const FLASH_CLI = '+442079460042';

/** An outbound trunk to SIPp on 127.0.0.1:port. */
export function flashTrunk(name: string, port: number, transport: SipTransport, extra: Partial<OutboundTrunkConfig> = {}): OutboundTrunkConfig {
  return {
    name, target: { transport, host: '127.0.0.1', port, text: `${transport}:127.0.0.1:${port}` }, outboundProxy: undefined,
    domain: '127.0.0.1', fromDomain: 'ringproof.test', numberFormat: 'e164', pai: true, credentials: undefined,
    cps: 100, maxConcurrent: 100, cliPool: [{ prefix: '+4420794600', digits: 2, text: '+4420794600XX' }], ...extra,
  };
}

/**
 * A trunk whose target (sbc.carrier.invalid, never resolved or contacted) sits behind an outbound
 * proxy on 127.0.0.1:proxyPort, numbers as digits without "+", no PAI.
 */
export function flashProxiedTrunk(name: string, proxyPort: number): OutboundTrunkConfig {
  return flashTrunk(name, 5060, 'udp', {
    target: { transport: 'udp', host: 'sbc.carrier.invalid', port: 5060, text: 'udp:sbc.carrier.invalid:5060' },
    domain: 'sbc.carrier.invalid', fromDomain: 'ringproof.test', numberFormat: 'digits', pai: false,
    outboundProxy: { transport: 'udp', host: '127.0.0.1', port: proxyPort, text: `udp:127.0.0.1:${proxyPort}` },
  });
}

export function flashOutbound(trunks: OutboundTrunkConfig[], extra: Partial<OutboundConfig> = {}): OutboundConfig {
  return { bindAddress: '127.0.0.1', advertiseAddress: undefined, minRingMs: 200, ringTimeoutMs: 3000, maxQueueMs: 2000, sdp: true, reportAttempts: 3, perNumber: { count: 0, windowSeconds: 60 }, fallback: 'none', reportWindowSeconds: 20, trunks, ...extra };
}

export function sippDump(r: SippUasResult): string {
  return `${r.stdout.slice(-1500)}\n${r.errors.slice(0, 1500)}\n${r.wire.map((m) => m.text).join('\n=====\n').slice(0, 6000)}`;
}

/** A UDP socket that only records what reaches it: a trunk that must not be called. */
export async function listeningSocket(): Promise<{ port: number; received(): string[]; stop(): void }> {
  const s = createSocket('udp4');
  const got: string[] = [];
  s.on('message', (m) => got.push(m.toString('latin1')));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return { port: s.address().port, received: () => [...got], stop: () => s.close() };
}

/** The most timestamps (ms) inside any half-open window of `ms`. */
export function mostInWindow(stamps: number[], ms: number): number {
  const times = [...stamps].sort((x, y) => x - y);
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= ms) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

export async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The first INVITE of each call as SIPp received it (its clock, ms), sorted. */
export function firstInviteTimes(wire: SippUasResult['wire']): number[] {
  const firsts = new Map<string, number>();
  for (const m of wire) if (m.direction === 'in' && m.method === 'INVITE' && !firsts.has(m.callId)) firsts.set(m.callId, m.at);
  return [...firsts.values()].sort((x, y) => x - y);
}

/**
 * SIPp carriers (and anything else with stop()) started by a test file, all stopped after each test:
 * `carrier(scenario, transport, keys, timeoutMs, calls)` starts SIPp as the UAS.
 */
export function useFlashCarriers(defaultTimeoutMs: number): {
  carrier(scenario: string, transport: SipTransport, keys?: Record<string, string>, timeoutMs?: number, calls?: number): Promise<SippUas>;
  track<T extends { stop(): unknown }>(thing: T): T;
} {
  const running: Array<{ stop(): unknown } | SippUas> = [];
  afterEach(async () => {
    for (const r of running.splice(0)) 'kill' in r ? r.kill() : await r.stop();
  });
  return {
    async carrier(scenario, transport, keys = {}, timeoutMs = defaultTimeoutMs, calls = 1) {
      const s = await startSippUas({ scenario, transport, calls, timeoutMs, keys });
      running.push(s);
      return s;
    },
    track(thing) {
      running.push(thing);
      return thing;
    },
  };
}
