/**
 * The poisoned-connection case against a REAL drachtio-server (RINGPROOF_TEST_DRACHTIO, see
 * sipp-scenarios.drachtio.ts): an INVITE whose Call-ID is 6.6 KB of invalid UTF-8 (a PROTOS c07-sip
 * style case) wedges a plain drachtio-srf app's connection; ringproof's engine must answer it and stay
 * usable, and must notice and repair a connection wedged anyway.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrunkConfig } from '../../src/config/config-types.js';
import { Edge } from '../../src/edge/edge.js';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.js';
import { DrachtioEngine } from '../../src/sip/engines/drachtio/drachtio-engine.js';
import { DRACHTIO_SERVER_READ_BUFFER_BYTES } from '../../src/sip/engines/drachtio/drachtio-options.js';
import type { SrfInstance } from '../../src/sip/engines/drachtio/srf-seam.js';
import { CollectingSink } from '../helpers/collecting-sink.js';
import { discardLogger } from '../helpers/log-capture.js';
import { drachtioSipConfig } from '../helpers/test-config.js';
import { requireDrachtioTarget } from './drachtio-target.js';

const target = requireDrachtioTarget();

const TRUNK: TrunkConfig = { name: 'loopback', sources: ['127.0.0.0/8'], defaultCountry: 'GB', rejectCode: 486, cliSources: ['pai', 'from'] };

let seq = 0;
/** Unique per run: drachtio-server treats a repeated Call-ID/From-tag/CSeq as a retransmission (491). */
const RUN = `${process.pid}-${Date.now()}`;
function invite(callId: Buffer, local: number): { bytes: Buffer; branch: string } {
  const branch = `z9hG4bK-poison-${RUN}-${++seq}`;
  const head = [
    `INVITE sip:+442079460000@${sipHost}:${sipPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=${branch};rport`,
    'Max-Forwards: 70',
    `From: <sip:+447700900123@127.0.0.1>;tag=p${RUN}-${seq}`,
    `To: <sip:+442079460000@${sipHost}>`,
    'Call-ID: ',
  ].join('\r\n');
  const tail = '\r\nCSeq: 1 INVITE\r\nContact: <sip:c@127.0.0.1>\r\nContent-Length: 0\r\n\r\n';
  return { bytes: Buffer.concat([Buffer.from(head, 'latin1'), callId, Buffer.from(tail, 'latin1')]), branch };
}

let sipHost = '127.0.0.1';
let sipPort = 5060;

/** Sends one INVITE and resolves with the first final response for its branch (raw bytes), or undefined. */
function finalFor(udp: UdpSocket, msg: { bytes: Buffer; branch: string }, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const onMsg = (d: Buffer): void => {
      const text = d.toString('latin1');
      if (!text.includes(msg.branch) || /^SIP\/2\.0 1\d\d /.test(text)) return;
      cleanup();
      resolve(d);
    };
    const timer = setTimeout(() => { cleanup(); resolve(undefined); }, timeoutMs);
    const cleanup = (): void => { clearTimeout(timer); udp.off('message', onMsg); };
    udp.on('message', onMsg);
    udp.send(msg.bytes, sipPort, sipHost);
  });
}

async function counter(m: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const got = await m.registry.getSingleMetric(name)?.get();
  return (got?.values ?? []).filter((v) => Object.entries(labels).every(([k, w]) => String(v.labels[k]) === w)).reduce((s, v) => s + v.value, 0);
}

describe('poisoned drachtio connection', () => {
  let engine: DrachtioEngine;
  let metrics: Metrics;
  let sink: CollectingSink;
  let udp: UdpSocket;
  let local = 0;

  beforeAll(async () => {
    metrics = createMetrics({ defaults: false });
    sink = new CollectingSink();
    const logger = discardLogger('silent');
    const cfg = drachtioSipConfig({ host: target.host, port: target.port, secret: target.secret });
    engine = new DrachtioEngine(cfg, metrics, logger, { pingIntervalMs: 500, pingTimeoutMs: 1_000, reconnectMaxDelayMs: 300 });
    await engine.start(new Edge({ config: { trunks: [TRUNK], sip: cfg }, metrics, logger, sink }));
    expect(await engine.waitReady(5_000)).toBe(true);
    const contact = engine.serverContacts.find((c) => c.startsWith('udp/'));
    expect(contact).toBeDefined();
    const hp = (contact as string).slice(4);
    sipHost = hp.slice(0, hp.lastIndexOf(':'));
    sipPort = Number(hp.slice(hp.lastIndexOf(':') + 1));
    udp = createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    local = udp.address().port;
  });

  afterAll(async () => {
    udp?.close();
    await engine?.stop(0);
  });

  it('answers a 6.6 KB invalid-UTF-8 Call-ID with the original bytes and keeps answering', async () => {
    const poison = Buffer.concat([Buffer.from(RUN), Buffer.alloc(6_600, Buffer.from([0xc0, 0xaf]))]);
    const answer = await finalFor(udp, invite(poison, local), 3_000);
    expect(answer?.toString('latin1')).toMatch(/^SIP\/2\.0 486 /);
    // drachtio-server completed the response from the request it holds: the Call-ID bytes are intact.
    expect((answer as Buffer).includes(poison)).toBe(true);
    const next = await finalFor(udp, invite(Buffer.from(`after-poison-${RUN}`), local), 3_000);
    expect(next?.toString('latin1')).toMatch(/^SIP\/2\.0 486 /);
    expect(sink.events.map((e) => e.callId)).toContain(`after-poison-${RUN}`);
    expect(await counter(metrics, 'ringproof_drachtio_forced_disconnects_total')).toBe(0);
  });

  it('detects a connection wedged anyway (a frame over the server read buffer) by ping timeout and recovers', async () => {
    // Wedge our own connection the way an oversize frame does: drachtio-server's 12,228-byte circular
    // read buffer overwrites the frame's start and then waits forever for bytes it already dropped.
    const agent = (engine as unknown as { srf: SrfInstance }).srf.app.client;
    const socket = agent?.mapServer.keys().next().value;
    expect(socket).toBeDefined();
    agent?.wp.send(socket as NonNullable<typeof socket>, `route|${'x'.repeat(DRACHTIO_SERVER_READ_BUFFER_BYTES + 1_000)}`);
    // While wedged, nothing is answered by ringproof (drachtio-server only sends its 100 Trying).
    const stuck = await finalFor(udp, invite(Buffer.from(`wedged-${RUN}`), local), 500);
    expect(stuck).toBeUndefined();
    const deadline = Date.now() + 10_000;
    while ((await counter(metrics, 'ringproof_drachtio_reconnects_total')) < 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await counter(metrics, 'ringproof_drachtio_forced_disconnects_total', { reason: 'ping_timeout' })).toBeGreaterThanOrEqual(1);
    expect(await engine.waitReady(5_000)).toBe(true);
    const after = await finalFor(udp, invite(Buffer.from(`recovered-${RUN}`), local), 3_000);
    expect(after?.toString('latin1')).toMatch(/^SIP\/2\.0 486 /);
  });
});
