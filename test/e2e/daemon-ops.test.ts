import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemonProcess, type DaemonProcess } from '../helpers/daemon-process.js';
import { freePort } from '../helpers/free-port.js';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';
import { parseResponse, UdpSipClient } from '../helpers/sip-client.js';

// What operators rely on beyond SIP correctness: IPv6 listeners, no phone number in clear in any
// log line (debug level included), graceful exit on SIGTERM.
const CLI = '+14155550123';
const PHONE = '+12025550042';

function invite(port: number, n: number, host = '127.0.0.1'): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return [
    `INVITE sip:+15550100001@${h} SIP/2.0`,
    `Via: SIP/2.0/UDP ${h}:${port};branch=z9hG4bK-ops-${n};rport`,
    'Max-Forwards: 70',
    `From: <sip:${CLI}@${h}>;tag=ops${n}`,
    `P-Asserted-Identity: <tel:${CLI}>`,
    `To: <sip:+15550100001@${h}>`,
    `Call-ID: ops-${n}@test`,
    'CSeq: 1 INVITE',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('daemon operations', () => {
  let redis: TestRedis;
  let daemon: DaemonProcess;

  beforeAll(async () => {
    redis = await startTestRedis();
    daemon = await startDaemonProcess({
      env: { RINGPROOF_EVENT_SINK: 'queue', REDIS_URL: redis.url, RINGPROOF_LOG_LEVEL: 'trace' },
    });
  });

  afterAll(async () => {
    await daemon?.stop();
    if (redis) await stopAndClean(redis);
  });

  it('never writes a phone number in clear to its logs, even at trace level', async () => {
    const created = await fetch(`${daemon.baseUrl}/v1/verifications`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phoneNumber: PHONE }),
    });
    expect(created.status).toBe(201);
    const client = await UdpSipClient.open();
    try {
      for (let i = 0; i < 5; i++) await client.send(invite(client.port, i), daemon.sipPort);
      await client.waitFor(5, 5000);
      expect(client.received.map((d) => parseResponse(d.data)?.status)).toEqual([486, 486, 486, 486, 486]);
    } finally {
      await client.close();
    }
    // Let the worker process the calls (they are logged at debug as they go).
    await new Promise((r) => setTimeout(r, 1500));
    const out = [...daemon.logs.stdout, ...daemon.logs.stderr].join('\n');
    expect(out.length).toBeGreaterThan(0);
    for (const n of [CLI, PHONE, CLI.slice(1), PHONE.slice(1)]) expect(out).not.toContain(n);
  });

  it('exits 0 on SIGTERM after a clean shutdown', async () => {
    expect(await daemon.stop('SIGTERM')).toBe(0);
  });
});

describe('IPv6 listeners', () => {
  it('answers SIP over UDP and TCP on [::1]', async () => {
    const port = await freePort();
    const d = await startDaemonProcess({
      env: { RINGPROOF_ROLE: 'edge', RINGPROOF_SIP_LISTEN: `udp:[::1]:${port},tcp:[::1]:${port}` },
    });
    const sock = createSocket({ type: 'udp6' });
    try {
      await new Promise<void>((r) => sock.bind(0, '::1', () => r()));
      const got = new Promise<Buffer>((resolve) => sock.once('message', (m) => resolve(m)));
      sock.send(invite(sock.address().port, 99, '::1'), port, '::1');
      const res = parseResponse(await got);
      expect(res?.status).toBe(486);
      // The top Via names the sender as it was seen.
      expect(res?.headers.get('via')?.[0]).toContain(`rport=${sock.address().port}`);
      const m = await d.metrics();
      expect(m.get('ringproof_call_events_total', { trunk: 'loopback' })).toBe(1);
      // The carrier's OPTIONS ping over TCP on IPv6.
      const tcp = connect({ host: '::1', port });
      const answer = await new Promise<string>((resolve, reject) => {
        let buf = '';
        tcp.on('data', (c) => {
          buf += c.toString('latin1');
          if (buf.includes('\r\n\r\n')) resolve(buf);
        });
        tcp.on('error', reject);
        tcp.on('connect', () => tcp.write(invite(tcp.localPort ?? 0, 100, '::1').replace(/^INVITE/, 'OPTIONS').replace('CSeq: 1 INVITE', 'CSeq: 1 OPTIONS').replace(/Via: SIP\/2\.0\/UDP/, 'Via: SIP/2.0/TCP')));
      });
      tcp.destroy();
      expect(answer.startsWith('SIP/2.0 200 OK')).toBe(true);
    } finally {
      sock.close();
      await d.stop();
    }
  });
});
