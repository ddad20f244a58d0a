import { describe, expect, it } from 'vitest';
import type { AbuseEvent } from '../../src/abuse/abuse-event.js';
import { abuseWebhookEvent } from '../../src/abuse/abuse-webhook-sink.js';
import { HammerDetector } from '../../src/abuse/hammer-detector.js';
import type { HammeringConfig } from '../../src/config/config-types.js';
import { autoBlockerRig } from '../helpers/auto-blocker-rig.js';

const CONFIG: HammeringConfig = { enabled: true, maxCalls: 5, windowSeconds: 60, blockSeconds: 600, maxTracked: 1000 };

function rig(opts: { pending?: string[]; synced?: boolean; config?: Partial<HammeringConfig> } = {}) {
  const pending = new Set(opts.pending ?? []);
  const r = autoBlockerRig();
  const detector = new HammerDetector({
    config: { ...CONFIG, ...opts.config },
    candidates: { has: (cli) => pending.has(cli), synced: opts.synced ?? true },
    blocker: r.blocker, registry: r.registry,
  });
  return { detector, ...r };
}

describe('HammerDetector', () => {
  it('blocks a CLI at maxCalls within the window (auto:hammering, with expiry), locally at once and through the store, and reports it', async () => {
    const r = rig();
    const t = 1_700_000_000_000;
    for (let i = 0; i < 4; i++) r.detector.observe('+12025550180', t + i * 1000);
    expect(r.added).toEqual([]);
    r.detector.observe('+12025550180', t + 4000);
    expect(r.local).toEqual([expect.objectContaining({ kind: 'number', value: '+12025550180', reason: 'auto:hammering', expiresAt: t + 4000 + 600_000 })]);
    await new Promise((res) => setImmediate(res));
    expect(r.added).toHaveLength(1);
    expect(r.events).toEqual([expect.objectContaining({ type: 'abuse.blocked', subject: { kind: 'number', value: '+12025550180' }, reason: 'auto:hammering', expiresAt: t + 604_000 })]);
    expect(r.lines.find((l) => l.msg === 'automatic block: CLI hammering without a pending session')).toMatchObject({ cli: '+120******80', calls: 5 });
    const body = abuseWebhookEvent(r.events[0] as AbuseEvent);
    expect(body).toMatchObject({ type: 'abuse.blocked', data: { abuse: { expiresAt: new Date(t + 604_000).toISOString() } } });
    expect(body.id).toMatch(/^evt_[0-9a-f]{40}$/);
  });

  it('never counts a CLI with a pending session, nor any call while the pre-filter is out of sync; restarts the window', () => {
    const withSession = rig({ pending: ['+12025550181'] });
    for (let i = 0; i < 50; i++) withSession.detector.observe('+12025550181', i);
    expect(withSession.local).toEqual([]);
    const unsynced = rig({ synced: false });
    for (let i = 0; i < 50; i++) unsynced.detector.observe('+12025550182', i);
    expect(unsynced.detector.tracked).toBe(0);
    const slow = rig();
    for (let i = 0; i < 50; i++) slow.detector.observe('+12025550183', i * 15_000);
    expect(slow.local).toEqual([]);
  });

  it('stays within maxTracked under a random-CLI flood, never blocks a one-shot caller, and still catches a hammering CLI in it', () => {
    const r = rig({ config: { maxTracked: 1000 } });
    let t = 0;
    for (let i = 0; i < 200_000; i++) {
      r.detector.observe(`+4477009${String(i).padStart(5, '0')}`, t++);
      // The edge stops telling the detector about a CLI once it is blocked.
      if (i % 100 === 0 && r.local.length === 0) r.detector.observe('+12025550184', t++);
    }
    expect(r.detector.tracked).toBeLessThanOrEqual(1000);
    expect(r.local.map((e) => e.value)).toEqual(['+12025550184']);
  });
});

describe('abuse configuration: hammering, webhookUrl, admin keys', () => {
  it('reads defaults, admin keys from the file and the environment, and refuses a private abuse.webhookUrl naming the key', async () => {
    const { loadConfig } = await import('../../src/config/load-config.js');
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { hashApiKey } = await import('../../src/config/hash-api-key.js');
    const d = loadConfig({ env: {} });
    expect(d.abuse.hammering).toEqual({ enabled: true, maxCalls: 10, windowSeconds: 60, blockSeconds: 3600, maxTracked: 10_000 });
    expect(d.abuse.webhookUrl).toBeUndefined();
    const ops = hashApiKey('ops-token'), app = hashApiKey('app-token');
    expect(loadConfig({ env: { RINGPROOF_API_KEYS: `ops:${ops}:admin,app:${app}` } }).api.keys).toEqual([{ name: 'ops', hash: ops, admin: true }, { name: 'app', hash: app }]);
    const dir = mkdtempSync(join(tmpdir(), 'rp-abuse-config-'));
    try {
      const file = join(dir, 'c.yaml');
      writeFileSync(file, `api:\n  keys:\n    - {name: ops, hash: "${ops}", admin: true}\n    - {name: app, hash: "${app}", admin: false}\nabuse:\n  webhookUrl: https://hooks.example.com/abuse\n  hammering: {maxCalls: 3}\n`);
      const c = loadConfig({ file, env: {} });
      expect(c.api.keys.map((k) => k.admin === true)).toEqual([true, false]);
      expect(c.abuse).toMatchObject({ webhookUrl: 'https://hooks.example.com/abuse', hammering: { maxCalls: 3, windowSeconds: 60 } });
      for (const [yaml, key] of [
        ['abuse:\n  webhookUrl: http://10.0.0.5/hook\n', 'abuse.webhookUrl'],
        ['abuse:\n  hammering:\n    maxCalls: 1\n', 'abuse.hammering.maxCalls'],
        [`api:\n  keys:\n    - {name: ops, hash: "${ops}", admin: yes-please}\n`, 'api.keys[0].admin'],
      ] as const) {
        writeFileSync(file, yaml);
        expect(() => loadConfig({ file, env: {} })).toThrow(new RegExp(`^${key.replace(/[.[\]]/g, '\\$&')}: `));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
