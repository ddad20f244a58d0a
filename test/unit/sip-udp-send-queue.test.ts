import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { UdpSendQueue } from '../../src/sip/transports/udp-send-queue.js';

const sockets: Socket[] = [];

async function bound(): Promise<Socket> {
  const s = createSocket('udp4');
  sockets.push(s);
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  return s;
}

function collect(s: Socket): string[] {
  const got: string[] = [];
  s.on('message', (m) => got.push(m.toString('latin1')));
  return got;
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A queue on one bound socket, sending to another whose datagrams land in `got`. */
async function pair() {
  const from = await bound();
  const to = await bound();
  const got = collect(to);
  const errors: Error[] = [];
  const q = new UdpSendQueue(from, (e) => errors.push(e));
  return { from, got, errors, q, port: to.address().port };
}

afterEach(async () => {
  for (const s of sockets.splice(0)) await new Promise<void>((r) => s.close(() => r())).catch(() => undefined);
});

describe('UdpSendQueue', () => {
  it('holds datagrams until the end of the event-loop turn, then sends all of them in order', async () => {
    const { from, got, errors, q, port } = await pair();
    // Count the socket's send() calls (the real socket still sends).
    let sends = 0;
    const send = from.send.bind(from) as (...a: unknown[]) => void;
    (from as unknown as { send: (...a: unknown[]) => void }).send = (...a: unknown[]) => {
      sends++;
      send(...a);
    };
    for (let i = 0; i < 50; i++) q.push(Buffer.from(`m${i}`, 'latin1'), port, '127.0.0.1');
    // Nothing has gone to the socket yet, not even after the microtasks: the sends wait for setImmediate.
    await Promise.resolve();
    expect(sends).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(sends).toBe(50);
    await until(() => got.length === 50);
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
    expect(errors).toEqual([]);
    // And it re-arms for the next turn.
    q.push(Buffer.from('again', 'latin1'), port, '127.0.0.1');
    await until(() => got.length === 51);
    expect(got[50]).toBe('again');
  });

  it('flush() sends at once (shutdown), and a send on a closed socket is reported, not thrown', async () => {
    const { from, got, errors, q, port } = await pair();
    q.push(Buffer.from('last', 'latin1'), port, '127.0.0.1');
    q.flush();
    await until(() => got.length === 1);
    expect(got).toEqual(['last']);

    await new Promise<void>((r) => from.close(() => r()));
    q.push(Buffer.from('too late', 'latin1'), port, '127.0.0.1');
    await until(() => errors.length === 1);
    expect((errors[0] as NodeJS.ErrnoException).code).toBe('ERR_SOCKET_DGRAM_NOT_RUNNING');
    expect(got).toEqual(['last']);
  });
});
