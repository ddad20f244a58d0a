import { describe, expect, it } from 'vitest';
import type { OutboundTrunkConfig } from '../../src/config/config-types.js';
import { CliPool } from '../../src/flash/cli-pool.js';

function trunk(name: string, pool: Array<[string, number]>): OutboundTrunkConfig {
  return {
    name, target: { transport: 'udp', host: '127.0.0.1', port: 5080, text: 'udp:127.0.0.1:5080' }, outboundProxy: undefined,
    domain: '127.0.0.1', fromDomain: '127.0.0.1', numberFormat: 'e164', pai: true, credentials: undefined, cps: 10, maxConcurrent: 10,
    cliPool: pool.map(([prefix, digits]) => ({ prefix, digits, text: prefix + 'X'.repeat(digits) })),
  };
}

describe('CliPool', () => {
  it('draws random codes of the entry length behind its prefix', () => {
    const pool = new CliPool([trunk('a', [['+44207946', 4]])]);
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const d = pool.draw('a', `+4477009001${String(i).padStart(2, '0')}`)!;
      expect(d.cli).toMatch(/^\+44207946\d{4}$/);
      expect(d.cli.endsWith(d.code)).toBe(true);
      expect(d.code).toHaveLength(4);
      seen.add(d.code);
    }
    expect(seen.size).toBeGreaterThan(40);
  });

  it('never gives two attempts in progress to one number the same CLI', () => {
    const pool = new CliPool([trunk('a', [['+4420794600', 2]])]);
    const to = '+447700900123';
    const drawn = Array.from({ length: 60 }, () => pool.draw('a', to)).filter((d) => d !== undefined);
    expect(new Set(drawn.map((d) => d.cli)).size).toBe(drawn.length);
    // Full numbers: one attempt per number at a time, then free again.
    const full = new CliPool([trunk('b', [['+442079460123', 0]])]);
    const first = full.draw('b', to)!;
    expect(first).toMatchObject({ cli: '+442079460123', code: '0123' });
    expect(full.draw('b', to)).toBeUndefined();
    expect(full.draw('b', '+447700900999')?.cli).toBe('+442079460123');
    full.release(first, to, 'rang');
    expect(full.draw('b', to)?.cli).toBe('+442079460123');
  });

  it('rotates through the entries and rests one whose calls get answered too often', () => {
    let now = 1_000;
    const pool = new CliPool([trunk('a', [['+442079460001', 0], ['+442079460002', 0]])], { minSamples: 3, maxBadShare: 0.5, restMs: 60_000, now: () => now });
    const order = [0, 1, 2, 3].map((i) => pool.draw('a', `+44770090010${i}`)!.cli);
    expect(order).toEqual(['+442079460001', '+442079460002', '+442079460001', '+442079460002']);
    const d = pool.draw('a', '+447700900200')!;
    expect(d.cli).toBe('+442079460001');
    for (let i = 0; i < 3; i++) pool.release(d, '+447700900200', 'answered');
    expect(pool.rested('a')).toEqual(['+442079460001']);
    for (let i = 0; i < 4; i++) expect(pool.draw('a', `+44770090040${i}`)?.cli).toBe('+442079460002');
    now += 60_001;
    expect(pool.rested('a')).toEqual([]);
  });

  it('gives nothing for an unknown trunk', () => {
    expect(new CliPool([]).draw('nope', '+447700900123')).toBeUndefined();
  });
});
