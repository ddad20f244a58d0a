import { afterEach, describe, expect, it } from 'vitest';
import type { TrunkConfig } from '../../src/config/config-types.js';
import type { CallEvent } from '../../src/edge/call-event.js';
import { Edge } from '../../src/edge/edge.js';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.js';
import { DrachtioEngine } from '../../src/sip/engines/drachtio/drachtio-engine.js';
import { DRACHTIO_SERVER_READ_BUFFER_BYTES } from '../../src/sip/engines/drachtio/drachtio-options.js';
import { CollectingSink } from '../helpers/collecting-sink.js';
import { logCapture } from '../helpers/log-capture.js';
import { drachtioSipConfig } from '../helpers/test-config.js';
import { type AppFrame, WirePeer } from '../helpers/drachtio-wire-peer.js';

const trunk: TrunkConfig = { name: 'carrier', sources: ['127.0.0.1/32'], defaultCountry: 'GB', rejectCode: 603, cliSources: ['pai', 'rpid', 'from'] };

interface Rig {
  peer: WirePeer;
  engine: DrachtioEngine;
  metrics: Metrics;
  sink: CollectingSink;
  logs: Record<string, unknown>[];
  serverPort: number;
}

const rigs: Rig[] = [];

async function rig(opts: { secret?: string; peerSecret?: string; serverHeader?: string; ping?: { intervalMs: number; timeoutMs: number } } = {}): Promise<Rig> {
  const peer = new WirePeer(opts.peerSecret ?? 's3cret');
  const port = await peer.listen();
  const metrics = createMetrics({ defaults: false });
  const { lines: logs, logger } = logCapture('debug');
  const cfg = drachtioSipConfig(
    { host: '127.0.0.1', port, secret: opts.secret ?? 's3cret' },
    { maxTransactions: 1_000, scannerUserAgents: ['friendly-scanner'], serverHeader: opts.serverHeader ?? '' },
  );
  const sink = new CollectingSink();
  const edge = new Edge({ config: { trunks: [trunk], sip: cfg }, metrics, logger, sink });
  const engine = new DrachtioEngine(cfg, metrics, logger, {
    pingIntervalMs: opts.ping?.intervalMs ?? 60_000,
    pingTimeoutMs: opts.ping?.timeoutMs ?? 30_000,
    reconnectMaxDelayMs: 300,
  });
  await engine.start(edge);
  const r = { peer, engine, metrics, sink, logs, serverPort: port };
  rigs.push(r);
  return r;
}

afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.engine.stop(0);
    await r.peer.close();
  }
});

function invite(callId: string, extra = '', from = '<sip:+447700900123@carrier.example>;tag=f1'): string {
  return [
    'INVITE sip:+442079460000@ringproof.example SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-1',
    'Max-Forwards: 70',
    `From: ${from}`,
    'To: <sip:+442079460000@ringproof.example>',
    `Call-ID: ${callId}`,
    'CSeq: 1 INVITE',
    'Contact: <sip:caller@127.0.0.1:5099>',
    ...(extra ? [extra] : []),
    'Content-Length: 0',
  ].join('\r\n') + '\r\n\r\n';
}

const sipFrame = (txn: string) => (f: AppFrame) => f.verb === 'sip' && f.tokens[2] === txn;

async function metric(m: Metrics, name: string): Promise<number> {
  const got = await m.registry.getSingleMetric(name)?.get();
  return (got?.values ?? []).reduce((s, v) => s + v.value, 0);
}

describe('drachtio engine over a real drachtio-srf and wire-protocol socket', () => {
  it('connects, authenticates and claims INVITE and OPTIONS (drachtio-server answers 503 to unclaimed OPTIONS)', async () => {
    const { peer, engine, metrics } = await rig();
    expect(await engine.waitReady(3_000)).toBe(true);
    const auth = await peer.next((f) => f.verb === 'authenticate');
    expect(auth.tokens[2]).toBe('s3cret');
    await peer.next((f) => f.verb === 'route' && f.tokens[2] === 'options');
    await peer.next((f) => f.verb === 'route' && f.tokens[2] === 'invite');
    expect(await metric(metrics, 'ringproof_drachtio_connected')).toBe(1);
  });

  it('rejects an INVITE with the trunk code and a Reason, and extracts the CLI from the second of two PAI lines (tel URI)', async () => {
    const { peer, engine, sink, metrics } = await rig();
    await engine.waitReady(3_000);
    peer.sendSip({
      transactionId: 'txn-1',
      raw: invite('call-1@test', 'P-Asserted-Identity: <sip:alice@carrier.example>\r\nP-Asserted-Identity: <tel:+447700900555>\r\nUser-Agent: carrier-sbc'),
    });
    const f = await peer.next(sipFrame('txn-1'));
    expect(f.body.startsWith('SIP/2.0 603 Decline\r\n')).toBe(true);
    // srf writes header names in lower case; drachtio-server re-emits them in canonical form.
    expect(f.body).toMatch(/^reason: Q\.850;cause=21;text="Call rejected"\r$/im);
    // drachtio-server completes the response from its own copy of the request: nothing is echoed.
    expect(f.body).not.toMatch(/^(Call-ID|From|To|CSeq):/im);
    expect(sink.events).toHaveLength(1);
    const ev = sink.events[0] as CallEvent;
    expect(ev).toMatchObject({ trunk: 'carrier', callId: 'call-1@test', cli: '+447700900555', cliOrigin: 'pai', did: '+442079460000', rejectCode: 603, transport: 'udp', userAgent: 'carrier-sbc' });
    expect(ev.source).toEqual({ address: '127.0.0.1', port: 5099 });
    expect(await metric(metrics, 'ringproof_sip_responses_total')).toBe(1);
    expect(engine.transactionCount()).toBe(0);
  });

  it('answers OPTIONS 200 with Allow, forbids unknown sources with 403, answers BYE 481', async () => {
    const { peer, engine, sink } = await rig();
    await engine.waitReady(3_000);
    peer.sendSip({ transactionId: 'o1', raw: 'OPTIONS sip:ringproof.example SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-o\r\nFrom: <sip:ping@carrier>;tag=1\r\nTo: <sip:ringproof.example>\r\nCall-ID: o1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n' });
    expect((await peer.next(sipFrame('o1'))).body).toMatch(/^SIP\/2\.0 200 OK\r\n[\s\S]*allow: INVITE, ACK, CANCEL, OPTIONS, BYE/i);
    peer.sendSip({ transactionId: 'x1', raw: invite('stranger@test'), address: '192.0.2.10' });
    expect((await peer.next(sipFrame('x1'))).body.startsWith('SIP/2.0 403 Forbidden')).toBe(true);
    peer.sendSip({ transactionId: 'b1', raw: 'BYE sip:x@ringproof.example SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK-b\r\nFrom: <sip:a@carrier>;tag=1\r\nTo: <sip:x@ringproof.example>;tag=2\r\nCall-ID: b1\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n', protocol: 'tcp' });
    expect((await peer.next(sipFrame('b1'))).body.startsWith('SIP/2.0 481 ')).toBe(true);
    expect(sink.events).toHaveLength(0);
  });

  it('answers a scanner (a drop decision) 403 instead of leaving the transaction to drachtio-server, and counts the drop', async () => {
    const { peer, engine, metrics } = await rig();
    await engine.waitReady(3_000);
    peer.sendSip({ transactionId: 's1', raw: invite('scan@test', 'User-Agent: friendly-scanner') });
    expect((await peer.next(sipFrame('s1'))).body.startsWith('SIP/2.0 403 ')).toBe(true);
    const drops = await metrics.registry.getSingleMetric('ringproof_sip_drops_total')?.get();
    expect(drops?.values.find((v) => v.labels.reason === 'scanner')?.value).toBe(1);
  });

  it('survives a PROTOS-style INVITE whose Call-ID is 6.6 KB of non-ASCII bytes: small frame, next INVITE answered', async () => {
    const { peer, engine, sink } = await rig();
    await engine.waitReady(3_000);
    // Invalid UTF-8 (overlong 0xC0 0xAF pairs): drachtio-srf decodes each byte to U+FFFD (3 bytes).
    const poison = Buffer.concat([
      Buffer.from(invite('@@CALLID@@').split('@@CALLID@@')[0] as string, 'latin1'),
      Buffer.alloc(6_600, Buffer.from([0xc0, 0xaf])),
      Buffer.from(invite('@@CALLID@@').split('@@CALLID@@')[1] as string, 'latin1'),
    ]);
    peer.sendSip({ transactionId: 'p1', raw: poison });
    const f = await peer.next(sipFrame('p1'));
    expect(f.body.startsWith('SIP/2.0 603 ')).toBe(true);
    // Echoing the decoded Call-ID would have made this frame ~20 KB, past drachtio-server's buffer.
    expect(f.bytes).toBeLessThan(1_000);
    expect(f.bytes).toBeLessThan(DRACHTIO_SERVER_READ_BUFFER_BYTES);
    peer.sendSip({ transactionId: 'p2', raw: invite('after-poison@test') });
    expect((await peer.next(sipFrame('p2'))).body.startsWith('SIP/2.0 603 ')).toBe(true);
    expect(sink.events.map((e) => e.callId)).toContain('after-poison@test');
  });

  it('never sends a frame drachtio-server cannot read: an oversize response is counted, not sent, and the connection lives', async () => {
    const { peer, engine, metrics } = await rig({ serverHeader: 'x'.repeat(12_500) });
    await engine.waitReady(3_000);
    peer.sendSip({ transactionId: 'big1', raw: invite('big@test') });
    await expect(peer.next(sipFrame('big1'), 500)).rejects.toThrow(/no matching frame/);
    expect(await metric(metrics, 'ringproof_drachtio_unframeable_total')).toBe(1);
    const drops = await metrics.registry.getSingleMetric('ringproof_sip_drops_total')?.get();
    expect(drops?.values.find((v) => v.labels.reason === 'unframeable')?.value).toBe(1);
    // srf forgot the INVITE anyway, and the connection still carries pings and requests.
    expect(engine.transactionCount()).toBe(0);
    expect(engine.ready).toBe(true);
  });

  it('drops a connection whose server stops answering pings, reconnects, and counts it', async () => {
    const { peer, engine, metrics, logs } = await rig({ ping: { intervalMs: 100, timeoutMs: 150 } });
    expect(await engine.waitReady(3_000)).toBe(true);
    await peer.next((f) => f.verb === 'ping');
    peer.mutePings = true;
    const deadline = Date.now() + 5_000;
    while (peer.connections < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(peer.connections).toBe(2);
    peer.mutePings = false;
    while (!engine.ready && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(engine.ready).toBe(true);
    const forced = await metrics.registry.getSingleMetric('ringproof_drachtio_forced_disconnects_total')?.get();
    expect(forced?.values.find((v) => v.labels.reason === 'ping_timeout')?.value).toBeGreaterThanOrEqual(1);
    expect(await metric(metrics, 'ringproof_drachtio_reconnects_total')).toBeGreaterThanOrEqual(1);
    expect(logs.some((l) => l.code === 'RP_DRACHTIO_CONNECTION' && String(l.msg).includes('pings'))).toBe(true);
    // The routes are claimed again on the new connection.
    expect(peer.frames.filter((f) => f.verb === 'route' && f.tokens[2] === 'invite').length).toBeGreaterThanOrEqual(2);
  });

  it('is not ready while drachtio-server is gone and comes back by itself', async () => {
    const { peer, engine, metrics, serverPort } = await rig();
    expect(await engine.waitReady(3_000)).toBe(true);
    const port = serverPort;
    await peer.close();
    const t = Date.now();
    while (engine.ready && Date.now() - t < 3_000) await new Promise((r) => setTimeout(r, 10));
    expect(engine.ready).toBe(false);
    expect(await metric(metrics, 'ringproof_drachtio_connected')).toBe(0);
    await peer.listen(port);
    expect(await engine.waitReady(5_000)).toBe(true);
    expect(await metric(metrics, 'ringproof_drachtio_reconnects_total')).toBe(1);
  });

  it('never becomes ready with a wrong secret and says why', async () => {
    const { engine, logs } = await rig({ secret: 'wrong' });
    expect(await engine.waitReady(800)).toBe(false);
    expect(logs.some((l) => l.code === 'RP_DRACHTIO_CONNECTION' && String(l.msg).includes('secret'))).toBe(true);
  });

  it('stops cleanly: connection closed, no reconnect', async () => {
    const { peer, engine } = await rig();
    await engine.waitReady(3_000);
    await engine.stop(0);
    expect(engine.ready).toBe(false);
    await new Promise((r) => setTimeout(r, 600));
    expect(peer.connections).toBe(1);
    expect(peer.sockets.size).toBe(0);
  });

  it('stops while drachtio-server is unreachable: no connection is made afterwards', async () => {
    const { peer, engine, serverPort } = await rig();
    await engine.waitReady(3_000);
    await peer.close();
    const t = Date.now();
    while (engine.ready && Date.now() - t < 3_000) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 200)); // a retry is now scheduled
    await engine.stop(0);
    const before = peer.connections;
    await peer.listen(serverPort);
    await new Promise((r) => setTimeout(r, 800));
    expect(peer.connections).toBe(before);
    expect(engine.ready).toBe(false);
  });
});
