import { afterEach, describe, expect, it } from 'vitest';
import type { OutboundConfig, OutboundTrunkConfig, SipTransport } from '../../src/config/config-types.js';
import { NativeUac, type FlashCallEvent } from '../../src/sip/uac/index.js';
import { discardLogger } from '../helpers/log-capture.js';
import { callMessages, ladder, startSippUas, type SippUas } from '../helpers/sipp-uas.js';

/**
 * The native UAC against SIPp playing the carrier and the phone (sipp-scenarios/uas-flash-*.xml):
 * the SIP on the wire (SIPp's message trace), the outcome, and the events of each flash call.
 */
const SIP = { t1Ms: 100, t2Ms: 400, maxMessageBytes: 8192 };
const TO = '+447700900123';
const CLI = '+442079460042';

function trunk(name: string, port: number, transport: SipTransport, extra: Partial<OutboundTrunkConfig> = {}): OutboundTrunkConfig {
  return {
    name, target: { transport, host: '127.0.0.1', port, text: `${transport}:127.0.0.1:${port}` }, outboundProxy: undefined,
    domain: '127.0.0.1', fromDomain: 'ringproof.test', numberFormat: 'e164', pai: true, credentials: undefined,
    cps: 100, maxConcurrent: 100, cliPool: [{ prefix: '+4420794600', digits: 2, text: '+4420794600XX' }], ...extra,
  };
}

function outbound(trunks: OutboundTrunkConfig[], extra: Partial<OutboundConfig> = {}): OutboundConfig {
  return { bindAddress: '127.0.0.1', advertiseAddress: undefined, minRingMs: 200, ringTimeoutMs: 3000, maxQueueMs: 2000, sdp: true, trunks, ...extra };
}

const running: Array<{ stop(): unknown } | SippUas> = [];
afterEach(async () => {
  for (const r of running.splice(0)) 'kill' in r ? r.kill() : await r.stop();
});

async function uacFor(trunks: OutboundTrunkConfig[], extra: Partial<OutboundConfig> = {}): Promise<NativeUac> {
  const uac = new NativeUac(outbound(trunks, extra), SIP, discardLogger('silent'));
  await uac.start();
  running.push(uac);
  return uac;
}

async function uas(scenario: string, transport: SipTransport, calls = 1, timeoutMs = 15_000): Promise<SippUas> {
  const s = await startSippUas({ scenario, transport, calls, timeoutMs });
  running.push(s);
  return s;
}

describe.each(['udp', 'tcp'] as const)('flash call over %s', (transport) => {
  it('180 then our CANCEL after the minimum ring, 487, ACK on the INVITE branch: rang', async () => {
    const carrier = await uas('uas-flash-ring.xml', transport);
    const uac = await uacFor([trunk('carrier-a', carrier.port, transport)]);
    const events: FlashCallEvent[] = [];
    const result = await uac.place({ to: TO, cli: CLI, trunks: ['carrier-a'], onEvent: (e) => events.push(e) });
    const sipp = await carrier.done;
    expect(sipp.exitCode, sipp.wire.map((m) => m.text).join("\n=====\n")).toBe(0);
    expect(result.outcome).toBe('rang');
    expect(result.cancelConfirmed).toBe(true);
    const a = result.attempts[0]!;
    expect(result.attempts).toHaveLength(1);
    expect(a.statuses).toEqual([100, 180, 487]);
    expect(a.finalStatus).toBe(487);
    expect(a.ringMs).toBeGreaterThanOrEqual(190);
    expect(a.postDialDelayMs).toBeGreaterThanOrEqual(0);
    expect(events.map((e) => e.type)).toEqual(['placed', 'ringing']);

    const call = callMessages(sipp.wire, a.callId);
    expect(ladder(call)).toEqual(['in INVITE', 'out 100 INVITE', 'out 180 INVITE', 'in CANCEL', 'out 200 CANCEL', 'out 487 INVITE', 'in ACK']);
    const [invite, , ringing, cancel, , , ack] = call;
    expect(cancel!.branch).toBe(invite!.branch);
    expect(ack!.branch).toBe(invite!.branch);
    expect(cancel!.cseq).toBe('1 CANCEL');
    expect(ack!.cseq).toBe('1 ACK');
    expect(cancel!.text.split('\n')[0]).toBe(invite!.text.split('\n')[0]!.replace('INVITE', 'CANCEL'));
    // Never before the minimum ring: our CANCEL left at least minRingMs after the 180 (SIPp's clock, ms).
    expect(cancel!.at - ringing!.at).toBeGreaterThanOrEqual(190);
    expect(invite!.header('From')).toMatch(new RegExp(`^<sip:\\${CLI}@ringproof\\.test;user=phone>;tag=`));
    expect(invite!.header('P-Asserted-Identity')).toBe(`<sip:${CLI}@ringproof.test;user=phone>`);
    expect(invite!.text.split('\n')[0]).toBe(`INVITE sip:${TO}@127.0.0.1:${carrier.port}${transport === 'tcp' ? ';transport=tcp' : ''};user=phone SIP/2.0`);
    expect(invite!.header('Content-Type')).toBe('application/sdp');
    expect(ack!.header('To')).toMatch(/;tag=/);
    await waitFor(() => uac.callsInFlight === 0 || transport === 'udp');
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
