import { describe, expect, it } from 'vitest';
import { SampledLru, type LruSlot } from '../../src/abuse/sampled-lru.js';

type Slot = LruSlot & { n: number };
const slot = (n: number): Slot => ({ n, lruSeq: 0 });

function lru(max: number, admitOneIn = 1) {
  let evictions = 0;
  const map = new SampledLru<string, Slot>(max, () => { evictions++; }, admitOneIn);
  return { map, evictions: () => evictions };
}

describe('SampledLru', () => {
  it('evicts the least recently used key first, whatever was deleted or moved in between', () => {
    const { map, evictions } = lru(4);
    for (const k of ['a', 'b', 'c', 'd']) map.admit(k, slot(0));
    map.delete('b');
    map.admit('e', slot(0));
    expect(evictions()).toBe(0);
    // a c d e: full. Touching keys of the older half moves them to the recent end.
    expect(map.get('a')?.n).toBe(0);
    expect(map.get('c')?.n).toBe(0);
    map.admit('f', slot(0));
    expect(map.get('d')).toBeUndefined();
    map.admit('g', slot(0));
    expect(map.get('e')).toBeUndefined();
    expect(evictions()).toBe(2);
    for (const k of ['a', 'c', 'f', 'g']) expect(map.get(k), k).toBeDefined();
    expect(map.size).toBe(4);
    // Emptied and filled again: evictions start over from the new oldest.
    for (const k of ['a', 'c', 'f', 'g']) map.delete(k);
    for (const k of ['p', 'q', 'r', 's', 't']) map.admit(k, slot(0));
    expect(map.get('p')).toBeUndefined();
    expect(map.size).toBe(4);
  });

  it('never evicts a key used at least once per max/2 admissions, under a flood of one-off keys', () => {
    const { map, evictions } = lru(1000, 16);
    map.admit('hot', slot(0));
    for (let i = 0; i < 200_000; i++) {
      const k = `k${i}`;
      if (map.get(k) === undefined) map.admit(k, slot(0));
      // 1,000 flood keys between two uses: ~62 admissions at one in 16, far less than max/2.
      if (i % 1000 === 0) {
        expect(map.get('hot'), `call ${i}`).toBeDefined();
        expect(map.size).toBeLessThanOrEqual(1000);
      }
    }
    // Once full, one new key in 16 got in, each evicting one.
    expect(evictions()).toBeGreaterThan(200_000 / 16 - 200);
    expect(evictions()).toBeLessThan(200_000 / 16 + 1);
  });

  it('keeps counts exact from admission: a hit returns the same value', () => {
    const { map } = lru(10);
    map.admit('x', slot(1));
    const v = map.get('x') as Slot;
    v.n++;
    expect(map.get('x')?.n).toBe(2);
  });
});
