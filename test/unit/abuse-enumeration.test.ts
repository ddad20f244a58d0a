import { describe, expect, it } from 'vitest';
import { EnumerationDetector } from '../../src/abuse/enumeration-detector.js';
import type { EnumerationConfig } from '../../src/config/config-types.js';
import { autoBlockerRig } from '../helpers/auto-blocker-rig.js';

const CONFIG: EnumerationConfig = { enabled: true, suffixDigits: 4, maxDistinct: 5, windowSeconds: 600, blockSeconds: 3600, maxTracked: 1000 };

function rig(opts: { pending?: string[]; synced?: boolean; config?: Partial<EnumerationConfig> } = {}) {
  const pending = new Set(opts.pending ?? []);
  const r = autoBlockerRig();
  const detector = new EnumerationDetector({
    config: { ...CONFIG, ...opts.config },
    candidates: { has: (cli) => pending.has(cli), synced: opts.synced ?? true },
    blocker: r.blocker, registry: r.registry,
  });
  return { detector, ...r };
}

describe('EnumerationDetector', () => {
  it('blocks a number block as a prefix once maxDistinct of its numbers call with no session, before the sweep reaches the pending one', async () => {
    const victim = '+12025550199';
    const r = rig({ pending: [victim] });
    const t = 1_700_000_000_000;
    // The sweep walks the block from 0100 upwards; the victim's number (0199) would come 100th.
    for (let i = 0; i < 4; i++) r.detector.observe(`+1202555${String(100 + i).padStart(4, '0')}`, t + i);
    // The same number again does not count twice: that is hammering, not enumeration.
    for (let i = 0; i < 10; i++) r.detector.observe('+12025550100', t + 10 + i);
    expect(r.local).toEqual([]);
    r.detector.observe('+12025550104', t + 100);
    expect(r.local).toEqual([expect.objectContaining({ kind: 'prefix', value: '+1202555', reason: 'auto:enumeration', expiresAt: t + 100 + 3_600_000 })]);
    await new Promise((res) => setImmediate(res));
    expect(r.added).toHaveLength(1);
    expect(r.events).toEqual([expect.objectContaining({
      type: 'abuse.flagged', subject: { kind: 'block', value: '+1202555XXXX' }, reason: 'auto:enumeration', expiresAt: t + 3_600_100,
    })]);
    const line = r.lines.find((l) => l.msg === 'automatic block: a number block is being enumerated');
    expect(line).toMatchObject({ block: '+1202555XXXX', distinct: 5, reason: 'auto:enumeration' });
    expect(JSON.stringify(r.lines)).not.toContain('+12025550104');
  });

  it('never counts a number with a pending session, nor anything while the pre-filter is out of sync; other blocks and slow callers stay clear', () => {
    const pending = Array.from({ length: 10 }, (_, i) => `+1202555${String(i).padStart(4, '0')}`);
    const withSessions = rig({ pending });
    for (const cli of pending) withSessions.detector.observe(cli, 0);
    expect(withSessions.local).toEqual([]);
    const unsynced = rig({ synced: false });
    for (let i = 0; i < 50; i++) unsynced.detector.observe(`+1202555${String(i).padStart(4, '0')}`, i);
    expect(unsynced.detector.tracked).toBe(0);
    // Four numbers in each of many blocks: no block reaches five.
    const spread = rig();
    for (let b = 0; b < 100; b++) for (let i = 0; i < 4; i++) spread.detector.observe(`+1202${String(b).padStart(3, '0')}${String(i).padStart(4, '0')}`, b);
    expect(spread.local).toEqual([]);
    // Five numbers of one block, but each window holds fewer than five.
    const slow = rig();
    for (let i = 0; i < 20; i++) slow.detector.observe(`+1202555${String(i).padStart(4, '0')}`, i * 200_000);
    expect(slow.local).toEqual([]);
  });

  it('stays within maxTracked blocks under a random-number flood and still catches a sweep in it', () => {
    const r = rig({ config: { maxTracked: 1000 } });
    let t = 0;
    let swept = 0;
    for (let i = 0; i < 200_000; i++) {
      // Scattered numbers over ten billion (a million blocks): hardly two calls from one block.
      r.detector.observe(`+4479${String(Math.imul(i, 2654435761) >>> 0).padStart(10, '0')}`, t++);
      if (i % 50 === 0 && r.local.length === 0) r.detector.observe(`+1202555${String(swept++).padStart(4, '0')}`, t++);
    }
    expect(r.detector.tracked).toBeLessThanOrEqual(1000);
    expect(r.local.map((e) => e.value)).toEqual(['+1202555']);
  });
});

describe('EnumerationDetector keys', () => {
  it('tells blocks apart by their digits and length, counts odd numbers by their text, and a suffix once', () => {
    const r = rig({ config: { maxDistinct: 3 } });
    // Blocks of different lengths whose digits read alike, and a block with a leading 0 (no E.164).
    const blocks = ['+1202555', '+12025550', '+01202555', '+1202555a'];
    for (const b of blocks) for (let i = 0; i < 2; i++) r.detector.observe(`${b}${String(i).padStart(4, '0')}`, i);
    // Suffixes that are no digits count by their text, next to numeric ones.
    r.detector.observe('+1303555000x', 3);
    r.detector.observe('+130355500x0', 4);
    r.detector.observe('+1303555000x', 5);
    expect(r.local).toEqual([]);
    expect(r.detector.tracked).toBe(5);
    r.detector.observe('+01202555' + '0009', 6);
    r.detector.observe('+12025550' + '0009', 7);
    r.detector.observe('+1303555' + '0000', 8);
    expect(r.local.map((e) => e.value)).toEqual(['+01202555', '+12025550', '+1303555']);
    expect(r.detector.tracked).toBe(2);
    // A 15-digit number counts; a number too short for a block of two digits does not.
    r.detector.observe('+123456789012345', 9);
    r.detector.observe('+1234', 10);
    expect(r.detector.tracked).toBe(3);
  });
});

describe('AnomalyDetectors', () => {
  it('asks the pre-filter once per call for both detectors, and SIGHUP turns a detector on or off', async () => {
    const { AnomalyDetectors } = await import('../../src/abuse/anomaly-detectors.js');
    const { defaultAbuseConfig } = await import('../../src/abuse/abuse-defaults.js');
    const asked = { synced: 0, has: 0 };
    const candidates = {
      get synced() { asked.synced++; return true; },
      has: (cli: string) => { asked.has++; return cli === '+12025550100'; },
    };
    const r = autoBlockerRig();
    const a = defaultAbuseConfig();
    const settings = { ...a, hammering: { ...a.hammering, maxCalls: 3 }, enumeration: { ...a.enumeration, maxDistinct: 3 } };
    const d = new AnomalyDetectors({ settings, candidates, blocker: r.blocker, registry: r.registry });
    for (let i = 0; i < 3; i++) d.observe('+12025550100', i);
    expect(asked).toEqual({ synced: 3, has: 3 });
    // Hammering: 3 calls of one number; the same block's next two numbers complete an enumeration.
    for (let i = 0; i < 3; i++) d.observe('+12025550101', i);
    d.observe('+12025550102', 4);
    expect(r.local.map((e) => [e.reason, e.value])).toEqual([['auto:hammering', '+12025550101']]);
    d.observe('+12025550103', 5);
    expect(r.local.map((e) => [e.reason, e.value])).toEqual([['auto:hammering', '+12025550101'], ['auto:enumeration', '+1202555']]);
    expect(asked).toEqual({ synced: 8, has: 8 });
    // Both off: nothing is asked any more; on again: counting starts afresh.
    d.reconfigure({ ...settings, hammering: { ...settings.hammering, enabled: false }, enumeration: { ...settings.enumeration, enabled: false } });
    for (let i = 0; i < 5; i++) d.observe('+12025550201', 10 + i);
    expect(asked).toEqual({ synced: 8, has: 8 });
    d.reconfigure(settings);
    for (let i = 0; i < 3; i++) d.observe('+12025550201', 20 + i);
    expect(r.local.map((e) => e.value)).toEqual(['+12025550101', '+1202555', '+12025550201']);
  });
});

describe('abuse.enumeration configuration', () => {
  it('has documented defaults and names the key of a bad value', async () => {
    const { loadConfig } = await import('../../src/config/load-config.js');
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    expect(loadConfig({ env: {} }).abuse.enumeration).toEqual({ enabled: true, suffixDigits: 4, maxDistinct: 20, windowSeconds: 600, blockSeconds: 3600, maxTracked: 10_000 });
    const dir = mkdtempSync(join(tmpdir(), 'rp-enum-config-'));
    try {
      const file = join(dir, 'c.yaml');
      writeFileSync(file, 'abuse:\n  enumeration: {suffixDigits: 3, maxDistinct: 50}\n');
      expect(loadConfig({ file, env: {} }).abuse.enumeration).toMatchObject({ suffixDigits: 3, maxDistinct: 50, windowSeconds: 600 });
      for (const [yaml, key] of [
        ['abuse:\n  enumeration:\n    suffixDigits: 0\n', 'abuse.enumeration.suffixDigits'],
        ['abuse:\n  enumeration:\n    maxDistinct: 1\n', 'abuse.enumeration.maxDistinct'],
        ['abuse:\n  enumeration:\n    blocks: 4\n', 'abuse.enumeration.blocks'],
      ] as const) {
        writeFileSync(file, yaml);
        expect(() => loadConfig({ file, env: {} })).toThrow(new RegExp(`^${key.replace(/[.[\]]/g, '\\$&')}: `));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
