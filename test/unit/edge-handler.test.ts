import { describe, expect, it } from 'vitest';
import type { RingproofConfig, TrunkConfig } from '../../src/config/config-types.js';
import type { CallEvent } from '../../src/edge/call-event.js';
import { Edge } from '../../src/edge/edge.js';
import type { EventSink } from '../../src/edge/event-sink.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import type { InboundInvite, SourceAddress } from '../../src/sip/contract/sip-engine.js';
import { CollectingSink } from '../helpers/collecting-sink.js';
import { logCapture } from '../helpers/log-capture.js';

const carrier: TrunkConfig = {
  name: 'carrier-gb', sources: ['198.51.100.0/24', '2001:db8::/32'], defaultCountry: 'GB', rejectCode: 603, cliSources: ['pai', 'from'],
};
const other: TrunkConfig = {
  name: 'carrier-us', sources: ['203.0.113.5'], defaultCountry: 'US', rejectCode: 486, cliSources: ['from'],
};

type EdgeConfig = Pick<RingproofConfig, 'trunks'> & { sip: Pick<RingproofConfig['sip'], 'scannerUserAgents' | 'unknownSource'> };

function makeEdge(config: Partial<EdgeConfig> & { unknownSource?: 'reject' | 'drop' } = {}) {
  const metrics = createMetrics({ defaults: false });
  const sink = new CollectingSink();
  const log = logCapture();
  const edge = new Edge({
    config: {
      trunks: config.trunks ?? [carrier, other],
      sip: { scannerUserAgents: ['friendly-scanner', 'sipvicious'], unknownSource: config.unknownSource ?? 'reject' },
    },
    metrics, logger: log.logger, sink,
  });
  return { edge, metrics, sink, log };
}

const src = (address: string, transport: 'udp' | 'tcp' = 'udp'): SourceAddress => ({ address, port: 5060, transport });

/** An INVITE as data: header lines by lowercase name, already split at commas like the engine does. */
function invite(source: SourceAddress, requestUri: string, headers: Record<string, string[]>, callId = 'call-1@test'): InboundInvite {
  return {
    source, callId, requestUri, receivedAt: 1_700_000_000_123.456,
    headerValues: (name) => headers[name] ?? [],
    header: (name) => headers[name]?.[0],
  };
}

async function counter(metrics: ReturnType<typeof createMetrics>, name: string): Promise<{ labels: Record<string, string | number>; value: number }[]> {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? []) as { labels: Record<string, string | number>; value: number }[];
}

describe('Edge.admit', () => {
  it('accepts trunk sources with the trunk reject code', () => {
    const { edge } = makeEdge();
    expect(edge.admit(src('198.51.100.7'), 'INVITE', 'Carrier SBC')).toEqual({ kind: 'accept', trunk: 'carrier-gb', rejectCode: 603 });
    expect(edge.admit(src('::ffff:203.0.113.5', 'tcp'), 'OPTIONS', undefined)).toEqual({ kind: 'accept', trunk: 'carrier-us', rejectCode: 486 });
    expect(edge.admit(src('2001:db8::9'), 'INVITE', undefined)).toMatchObject({ kind: 'accept', trunk: 'carrier-gb' });
    expect(edge.usingLoopbackDefault).toBe(false);
  });

  it('drops scanners before the ACL, even from trunk addresses', () => {
    const { edge } = makeEdge();
    expect(edge.admit(src('198.51.100.7'), 'OPTIONS', 'friendly-scanner')).toEqual({ kind: 'drop', reason: 'scanner' });
    expect(edge.admit(src('192.0.2.1'), 'INVITE', 'SIPVicious 0.3')).toEqual({ kind: 'drop', reason: 'scanner' });
  });

  it('forbids or drops unknown sources per sip.unknownSource', () => {
    expect(makeEdge().edge.admit(src('192.0.2.1'), 'INVITE', undefined)).toEqual({ kind: 'forbid' });
    expect(makeEdge({ unknownSource: 'drop' }).edge.admit(src('192.0.2.1'), 'INVITE', undefined)).toEqual({ kind: 'drop', reason: 'unknown_source' });
  });

  it('uses the loopback trunk when none is configured', () => {
    const { edge } = makeEdge({ trunks: [] });
    expect(edge.usingLoopbackDefault).toBe(true);
    expect(edge.admit(src('127.0.0.1'), 'INVITE', 'sipp')).toEqual({ kind: 'accept', trunk: 'loopback', rejectCode: 486 });
    expect(edge.admit(src('::1'), 'INVITE', 'sipp')).toMatchObject({ kind: 'accept', trunk: 'loopback' });
    expect(edge.admit(src('10.0.0.1'), 'INVITE', 'sipp')).toEqual({ kind: 'forbid' });
  });

  it('returns shared decision objects (no allocation per request)', () => {
    const { edge } = makeEdge();
    expect(edge.admit(src('198.51.100.7'), 'INVITE', 'x')).toBe(edge.admit(src('198.51.100.8'), 'INVITE', 'y'));
  });

  it('refuses bad trunk configuration with CONFIG_INVALID', () => {
    expect(() => makeEdge({ trunks: [{ ...carrier, defaultCountry: 'ZZ' }] })).toThrow(/trunks\[0\]\.defaultCountry/);
    expect(() => makeEdge({ trunks: [carrier, { ...other, name: 'carrier-gb' }] })).toThrow(/duplicate trunk name/);
  });
});

describe('Edge.onInviteAnswered', () => {
  it('publishes one CallEvent per INVITE and counts it by trunk and CLI origin', async () => {
    const { edge, sink, metrics } = makeEdge();
    const inv = invite(src('198.51.100.7'), 'sip:02012345678@edge.example;user=phone', {
      from: ['"Caller" <sip:07700900999@carrier.example>;tag=a1'],
      to: ['<sip:02012345678@edge.example>'],
      'p-asserted-identity': ['<sip:+447700900123;verstat=TN-Validation-Passed@carrier.example;user=phone>', '<tel:+447700900123>'],
      identity: ['eyJhbGciOiJFUzI1NiJ9.eyJhdHRlc3QiOiJBIn0.sig;info=<https://cert.example/a.pem>;alg=ES256;ppt=shaken'],
      'user-agent': ['Carrier SBC 1.0'],
    });
    edge.onInviteAnswered(inv, 'carrier-gb', 603);
    expect(sink.events).toEqual([{
      v: 1,
      trunk: 'carrier-gb',
      source: { address: '198.51.100.7', port: 5060 },
      transport: 'udp',
      callId: 'call-1@test',
      cli: '+447700900123',
      cliOrigin: 'pai',
      cliRaw: '+447700900123',
      did: '+442012345678',
      didRaw: '02012345678',
      verstat: 'TN-Validation-Passed',
      trust: 'passed',
      identity: 'eyJhbGciOiJFUzI1NiJ9.eyJhdHRlc3QiOiJBIn0.sig;info=<https://cert.example/a.pem>;alg=ES256;ppt=shaken',
      userAgent: 'Carrier SBC 1.0',
      rejectCode: 603,
      receivedAt: 1_700_000_000_123.456,
    } satisfies CallEvent]);
    expect(JSON.parse(JSON.stringify(sink.events[0]))).toEqual(sink.events[0]);
    expect(await counter(metrics, 'ringproof_call_events_total')).toEqual([
      expect.objectContaining({ labels: { trunk: 'carrier-gb', cli_origin: 'pai' }, value: 1 }),
    ]);
  });

  it('marks withheld calls and joins several Identity headers', async () => {
    const { edge, sink, metrics } = makeEdge();
    edge.onInviteAnswered(invite(src('203.0.113.5', 'tcp'), 'sip:+12025550123@edge.example', {
      from: ['"Anonymous" <sip:anonymous@anonymous.invalid>;tag=z'],
      privacy: ['id'],
      identity: ['a.b.c;info=<https://x/1>', 'd.e.f;info=<https://x/2>'],
    }, 'call-2'), 'carrier-us', 486);
    expect(sink.events[0]).toMatchObject({
      trunk: 'carrier-us', transport: 'tcp', cli: null, cliOrigin: 'withheld', cliRaw: null, trust: 'absent',
      did: '+12025550123', identity: 'a.b.c;info=<https://x/1>,d.e.f;info=<https://x/2>', userAgent: null, rejectCode: 486,
    });
    expect(await counter(metrics, 'ringproof_call_events_total')).toEqual([
      expect.objectContaining({ labels: { trunk: 'carrier-us', cli_origin: 'withheld' }, value: 1 }),
    ]);
  });

  it('never throws: a broken invite or sink is logged with a code and counted as a call_event_failed drop (the message itself was fine)', async () => {
    const { edge, sink, metrics, log } = makeEdge();
    const broken: InboundInvite = {
      ...invite(src('198.51.100.7'), 'sip:1@x', {}),
      headerValues: () => { throw new Error('boom'); },
    };
    expect(() => edge.onInviteAnswered(broken, 'carrier-gb', 603)).not.toThrow();
    expect(() => edge.onInviteAnswered(invite(src('198.51.100.7'), 'sip:1@x', {}), 'no-such-trunk', 603)).not.toThrow();
    const throwingSink: EventSink = { ready: true, publish: () => { throw new Error('sink down'); }, close: async () => {} };
    const e2 = new Edge({ config: { trunks: [carrier], sip: { scannerUserAgents: [], unknownSource: 'drop' } }, metrics, logger: log.logger, sink: throwingSink });
    expect(() => e2.onInviteAnswered(invite(src('198.51.100.7'), 'sip:1@x', { from: ['<sip:+447700900123@x>'] }), 'carrier-gb', 603)).not.toThrow();

    expect(sink.events).toHaveLength(0);
    expect(await counter(metrics, 'ringproof_sip_drops_total')).toEqual([
      expect.objectContaining({ labels: { reason: 'call_event_failed', transport: 'udp' }, value: 3 }),
    ]);
    const errors = log.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(3);
    expect(errors.map((e) => e.code)).toEqual(['RP_INTERNAL', 'RP_INTERNAL', 'RP_INTERNAL']);
    expect(errors[0]!.callId).toBe('call-1@test');
  });

  it('produces events for garbage identity headers without a CLI', () => {
    const { edge, sink } = makeEdge();
    edge.onInviteAnswered(invite(src('198.51.100.7'), 'sip:edge.example', {
      from: ['\xff\x00<<'], to: ['nonsense'], 'p-asserted-identity': ['<sip:>'],
    }), 'carrier-gb', 603);
    expect(sink.events[0]).toMatchObject({ cli: null, cliOrigin: 'pai', cliRaw: null, did: null, didRaw: null, verstat: null });
  });
});

describe('Edge.prepareReload', () => {
  const reloadConfig = (trunks: TrunkConfig[], unknownSource: 'reject' | 'drop' = 'reject'): EdgeConfig => ({
    trunks, sip: { scannerUserAgents: ['sipvicious'], unknownSource },
  });

  it('changes nothing until the returned function runs, then switches trunks, scanners and the unknown-source policy together', () => {
    const { edge } = makeEdge();
    const moved: TrunkConfig = { ...other, name: 'carrier-us-2', sources: ['198.51.100.0/24'], rejectCode: 603 };
    const commit = edge.prepareReload(reloadConfig([moved], 'drop'));
    expect(edge.admit(src('198.51.100.7'), 'INVITE', 'friendly-scanner')).toEqual({ kind: 'drop', reason: 'scanner' });
    expect(edge.admit(src('198.51.100.7'), 'INVITE', undefined)).toMatchObject({ trunk: 'carrier-gb' });
    commit();
    expect(edge.admit(src('198.51.100.7'), 'INVITE', undefined)).toEqual({ kind: 'accept', trunk: 'carrier-us-2', rejectCode: 603 });
    // The scanner list and the unknown-source policy are the new ones too.
    expect(edge.admit(src('198.51.100.7'), 'INVITE', 'friendly-scanner')).toMatchObject({ kind: 'accept' });
    expect(edge.admit(src('203.0.113.5'), 'INVITE', undefined)).toEqual({ kind: 'drop', reason: 'unknown_source' });
    expect(edge.trunks.map((t) => t.name)).toEqual(['carrier-us-2']);
  });

  it('refuses a configuration that does not compile, leaving the old rules in force', () => {
    const { edge } = makeEdge();
    expect(() => edge.prepareReload(reloadConfig([carrier, { ...other, name: carrier.name }]))).toThrow(/trunks\[1\]\.name: duplicate trunk name/);
    expect(() => edge.prepareReload(reloadConfig([{ ...carrier, defaultCountry: 'XX' }]))).toThrow(/trunks\[0\]\.defaultCountry/);
    expect(edge.admit(src('203.0.113.5'), 'INVITE', undefined)).toMatchObject({ trunk: 'carrier-us' });
  });

  it('still produces the CallEvent of an INVITE admitted by a trunk the reload removed', () => {
    const { edge, sink } = makeEdge();
    const decision = edge.admit(src('198.51.100.7'), 'INVITE', undefined);
    expect(decision).toMatchObject({ trunk: 'carrier-gb' });
    edge.prepareReload(reloadConfig([other]))();
    // drachtio answers after admit(): the answer can come after the switch.
    edge.onInviteAnswered(invite(src('198.51.100.7'), 'sip:02071838750@ringproof', { from: ['<sip:02079460000@carrier>'] }), 'carrier-gb', 603);
    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]?.trunk).toBe('carrier-gb');
  });
});
