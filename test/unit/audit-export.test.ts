import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PassThrough, Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { exportAudit } from '../../src/audit/audit-export.js';
import type { AuditRecord } from '../../src/audit/audit-types.js';

const PREFIX = '{rpaudit}';
let server: TestRedis;
let redis: Redis;

beforeAll(async () => {
  server = await startTestRedis({ appendonly: false });
  redis = new Redis(server.url);
});

afterAll(async () => {
  redis.disconnect();
  await stopAndClean(server);
});

beforeEach(async () => {
  await redis.flushall();
});

async function collect(opts: Parameters<typeof exportAudit>[3] = {}): Promise<{ count: number; lines: AuditRecord[] }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const count = await exportAudit(redis, PREFIX, out, opts);
  out.end();
  const text = Buffer.concat(chunks).toString('utf8');
  const lines = text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AuditRecord);
  expect(text === '' || text.endsWith('\n')).toBe(true);
  return { count, lines };
}

describe('audit log and export', () => {
  it('appends entries with full numbers and exports them as JSON lines in order, across pages', async () => {
    const log = new AuditLog({ redis, prefix: PREFIX });
    const t0 = Date.UTC(2025, 0, 1);
    for (let i = 0; i < 23; i++) {
      await log.append({ type: 'call', at: t0 + i, data: { callId: `c${i}`, cli: '+447700900123', outcome: 'unsolicited' } });
    }
    const { count, lines } = await collect({ pageSize: 5 });
    expect(count).toBe(23);
    expect(lines.map((l) => l.data.callId)).toEqual(Array.from({ length: 23 }, (_, i) => `c${i}`));
    expect(lines[0]).toMatchObject({ type: 'call', at: new Date(t0).toISOString(), data: { cli: '+447700900123' } });
    expect(lines[0]!.id).toMatch(/^\d+-\d+$/);
    expect(new Set(lines.map((l) => l.id)).size).toBe(23);
  });

  it('since/until select by stream time, inclusive', async () => {
    const base = Date.now() - 10_000;
    // Explicit ids so the time bounds are exact.
    for (let i = 0; i < 10; i++) {
      await redis.xadd(`${PREFIX}:audit`, `${base + i * 1000}-0`, 'type', 'session.created', 'at', String(base + i * 1000), 'data', JSON.stringify({ n: i }));
    }
    const { lines } = await collect({ since: base + 3000, until: new Date(base + 6000), pageSize: 2 });
    expect(lines.map((l) => l.data.n)).toEqual([3, 4, 5, 6]);
    expect((await collect({ since: base + 8500 })).lines.map((l) => l.data.n)).toEqual([9]);
    expect((await collect({ until: base })).lines.map((l) => l.data.n)).toEqual([0]);
    expect((await collect({ since: base + 60_000 })).count).toBe(0);
  });

  it('trims the evidence trail by time only, never by count, and exports an empty trail as nothing', async () => {
    expect((await collect()).count).toBe(0);
    const log = new AuditLog({ redis, prefix: PREFIX, settings: { evidenceRetentionDays: 1 } });
    const now = Date.now();
    // 1000 entries from three days ago: past the retention.
    for (let i = 0; i < 1000; i++) {
      await redis.xadd(log.key, `${now - 3 * 86_400_000 + i}-0`, 'type', 'call', 'at', '0', 'data', JSON.stringify({ old: i }));
    }
    // More recent entries than any count cap would keep of a small stream: all of them stay.
    for (let i = 0; i < 1500; i++) await log.append({ type: 'session.created', at: now, data: { i } });
    const lines = (await collect({ trails: ['evidence'] })).lines;
    expect(lines.filter((l) => l.data.i !== undefined)).toHaveLength(1500);
    // MINID ~ trims whole stream nodes: a remainder below one node (100 entries) may linger.
    expect(lines.filter((l) => l.data.old !== undefined).length).toBeLessThan(100);
    expect(() => new AuditLog({ redis, prefix: PREFIX, settings: { noiseMaxEntries: 0 } })).toThrow(RangeError);
  });

  it('exports the evidence trail, then the noise trail, each line naming its trail', async () => {
    const log = new AuditLog({ redis, prefix: PREFIX });
    await log.append({ type: 'session.created', at: 1, data: { id: 'v1' } });
    await redis.xadd(log.noiseKey, '*', 'type', 'call', 'at', '2', 'data', JSON.stringify({ callId: 'n1', outcome: 'unsolicited' }));
    const { lines } = await collect();
    expect(lines.map((l) => [l.trail, l.type])).toEqual([['evidence', 'session.created'], ['noise', 'call']]);
    expect((await collect({ trails: ['noise'] })).lines.map((l) => l.data.callId)).toEqual(['n1']);
  });

  it('honours backpressure of a slow writer', async () => {
    const log = new AuditLog({ redis, prefix: PREFIX });
    for (let i = 0; i < 50; i++) await log.append({ type: 'call', at: i, data: { i, pad: 'x'.repeat(200) } });
    const received: string[] = [];
    const slow = new Writable({
      highWaterMark: 256,
      write(chunk: Buffer, _enc, cb) { received.push(chunk.toString()); setTimeout(cb, 1); },
    });
    expect(await exportAudit(redis, PREFIX, slow, { pageSize: 7 })).toBe(50);
    await new Promise<void>((r) => slow.end(r));
    expect(received).toHaveLength(50);
    expect(JSON.parse(received[49]!).data.i).toBe(49);
  });
});
