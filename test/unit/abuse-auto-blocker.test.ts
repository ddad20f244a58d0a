import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { AutoBlocker, type AutoBlock } from '../../src/abuse/auto-blocker.js';
import type { AbuseEvent } from '../../src/abuse/abuse-event.js';
import type { BlocklistEntry, BlocklistInput } from '../../src/abuse/blocklist-entry.js';
import { logCapture } from '../helpers/log-capture.js';

const T = 1_800_000_000_000;

function flagged(i: number, reason = 'auto:enumeration'): AutoBlock {
  const value = `+4479${String(i).padStart(4, '0')}`;
  return {
    input: { kind: 'prefix', value, reason, expiresAt: T + 60_000 },
    event: { type: 'abuse.blocked', subject: { kind: 'prefix', value }, detail: { distinct: 20, by: 'edge' } },
    log: { block: `+4479${'*'.repeat(4)}` },
    message: 'automatic block: a number block is being enumerated',
  };
}

function rig(opts: { batchMs?: number; fail?: boolean } = {}) {
  const writes: BlocklistInput[][] = [];
  const local: BlocklistEntry[] = [];
  const events: AbuseEvent[] = [];
  const registry = new Registry();
  const { lines, logger } = logCapture('info');
  const blocker = new AutoBlocker({
    addMany: async (inputs) => {
      writes.push([...inputs]);
      if (opts.fail) throw new Error('connection lost');
      return inputs.map((input) => ({ ...input, createdAt: T, createdBy: 'auto' }));
    },
    putLocal: (e) => { local.push(e); },
    events: { emit: (e) => { events.push(e); }, close: async () => undefined },
    logger, registry, ...(opts.batchMs === undefined ? {} : { batchMs: opts.batchMs }),
  });
  const counted = async (result: string): Promise<number> =>
    (await registry.getSingleMetric('ringproof_auto_blocks_total')!.get()).values.filter((v) => v.labels.result === result).reduce((n, v) => n + v.value, 0);
  return { blocker, writes, local, events, lines, counted };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('AutoBlocker batches', () => {
  it('a burst of 600 blocks: each in force locally at once, stored in two writes (500 + 100), one summary line per write', async () => {
    const r = rig({ batchMs: 0 });
    for (let i = 0; i < 600; i++) r.blocker.block(flagged(i), T);
    expect(r.local).toHaveLength(600);
    // The 500th filled a batch, which went at once; the rest waits for the end of the turn.
    expect(r.writes.map((w) => w.length)).toEqual([500]);
    await turn();
    await turn();
    expect(r.writes.map((w) => w.length)).toEqual([500, 100]);
    expect(r.events).toHaveLength(600);
    expect(r.events[599]).toMatchObject({ type: 'abuse.blocked', reason: 'auto:enumeration', expiresAt: T + 60_000, at: T });
    expect(await r.counted('ok')).toBe(600);
    const summaries = r.lines.filter((l) => String(l.msg).startsWith('automatic blocks:'));
    expect(summaries.map((l) => l.count)).toEqual([500, 100]);
    expect(summaries[0]).toMatchObject({ reason: 'auto:enumeration', sample: expect.any(Array) });
    expect((summaries[0] as { sample: unknown[] }).sample).toHaveLength(5);
    expect(r.lines.filter((l) => l.msg === 'automatic block: a number block is being enumerated')).toHaveLength(0);
  });

  it('waits batchMs to gather entries; a small batch is logged entry by entry', async () => {
    const r = rig({ batchMs: 40 });
    for (let i = 0; i < 3; i++) r.blocker.block(flagged(i), T);
    await turn();
    expect(r.writes).toEqual([]);
    expect(r.local).toHaveLength(3);
    await expect.poll(() => r.writes.length, { timeout: 1000, interval: 5 }).toBe(1);
    expect(r.writes[0]).toHaveLength(3);
    await expect.poll(() => r.lines.filter((l) => l.msg === 'automatic block: a number block is being enumerated').length, { timeout: 1000, interval: 5 }).toBe(3);
  });

  it('a failed write is counted and logged per batch, and close() writes what is pending at once', async () => {
    const r = rig({ batchMs: 60_000, fail: true });
    for (let i = 0; i < 12; i++) r.blocker.block(flagged(i, i % 2 === 0 ? 'auto:enumeration' : 'auto:hammering'), T);
    expect(r.writes).toEqual([]);
    await r.blocker.close();
    expect(r.writes.map((w) => w.length)).toEqual([12]);
    expect(await r.counted('failed')).toBe(12);
    expect(await r.counted('ok')).toBe(0);
    expect(r.events).toEqual([]);
    const lines = r.lines.filter((l) => String(l.msg).startsWith('automatic block not stored'));
    expect(lines.map((l) => [l.reason, l.count])).toEqual([['auto:enumeration', 6], ['auto:hammering', 6]]);
    expect(lines[0]).toMatchObject({ err: 'connection lost' });
  });
});
