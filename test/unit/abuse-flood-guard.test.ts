import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FloodGuard, createFloodGuardMetrics } from '../../src/abuse/index.js';
import type { FloodGuardConfig } from '../../src/config/config-types.js';
import { Edge } from '../../src/edge/edge.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { DropReasons } from '../../src/sip/contract/index.js';
import { maskAddress } from '../../src/log/mask.js';
import { CollectingSink } from '../helpers/collecting-sink.js';
import { logCapture } from '../helpers/log-capture.js';

const CONFIG: FloodGuardConfig = { enabled: true, windowMs: 1000, maxRequests: 5, banSeconds: 10, trunkMaxRequests: 0, maxSources: 100 };

function rig(config: Partial<FloodGuardConfig> = {}) {
  let t = 1_000_000;
  const registry = new Registry();
  const { lines, logger } = logCapture('info');
  const guard = new FloodGuard({ config: { ...CONFIG, ...config }, metrics: createFloodGuardMetrics(registry), logger, now: () => t, sweepMs: 3_600_000 });
  const value = async (name: string, labels: Record<string, string> = {}): Promise<number> => {
    const m = await registry.getSingleMetric(name)!.get();
    return m.values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((a, v) => a + v.value, 0);
  };
  return { guard, lines, value, advance: (ms: number) => { t += ms; }, close: () => guard.close() };
}

describe('FloodGuard', () => {
  it('bans a source past maxRequests in one window, drops it until banSeconds pass, then counts afresh', async () => {
    const r = rig();
    for (let i = 0; i < 5; i++) expect(r.guard.check('203.0.113.9', false)).toBe(false);
    expect(r.guard.check('203.0.113.9', false)).toBe(true);
    expect(r.guard.check('203.0.113.10', false)).toBe(false);
    expect(await r.value('ringproof_flood_bans')).toBe(1);
    expect(await r.value('ringproof_flood_bans_total', { trunk: 'no' })).toBe(1);
    r.advance(9_999);
    expect(r.guard.check('203.0.113.9', false)).toBe(true);
    r.advance(1);
    r.guard.sweep();
    expect(r.guard.isBanned('203.0.113.9')).toBe(false);
    expect(await r.value('ringproof_flood_bans')).toBe(0);
    for (let i = 0; i < 5; i++) expect(r.guard.check('203.0.113.9', false)).toBe(false);
    const ban = r.lines.find((l) => l.msg === 'flood guard: source banned');
    expect(ban).toMatchObject({ source: '203.0.113.*', trunk: false, requests: 6 });
    expect(r.lines.find((l) => l.msg === 'flood guard: ban expired')).toMatchObject({ source: '203.0.113.*' });
    expect(JSON.stringify(r.lines)).not.toContain('203.0.113.9');
    r.close();
  });

  it('restarts the window: maxRequests per window is never a ban', () => {
    const r = rig();
    for (let w = 0; w < 10; w++) {
      for (let i = 0; i < 5; i++) expect(r.guard.check('198.51.100.1', false)).toBe(false);
      r.advance(1000);
    }
    expect(r.guard.bannedSources).toBe(0);
    r.close();
  });

  it('never counts trunk addresses with trunkMaxRequests 0, and gives them their own limit otherwise', async () => {
    const exempt = rig();
    for (let i = 0; i < 10_000; i++) expect(exempt.guard.check('192.0.2.1', true)).toBe(false);
    expect(exempt.guard.trackedSources).toBe(0);
    exempt.close();
    const limited = rig({ trunkMaxRequests: 50 });
    for (let i = 0; i < 50; i++) expect(limited.guard.check('192.0.2.1', true)).toBe(false);
    expect(limited.guard.check('192.0.2.1', true)).toBe(true);
    expect(await limited.value('ringproof_flood_bans_total', { trunk: 'yes' })).toBe(1);
    limited.close();
  });

  it('stays within maxSources under a random-source flood, evicting (counted) the stalest windows, and keeps its bans', async () => {
    const r = rig({ maxSources: 100 });
    for (let i = 0; i < 6; i++) r.guard.check('203.0.113.66', false);
    expect(r.guard.isBanned('203.0.113.66')).toBe(true);
    for (let i = 0; i < 5_000; i++) {
      expect(r.guard.check(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, false)).toBe(false);
      expect(r.guard.trackedSources).toBeLessThanOrEqual(100);
    }
    expect(await r.value('ringproof_flood_guard_evictions_total')).toBe(5_000 - 100);
    expect(r.guard.check('203.0.113.66', false)).toBe(true);
    r.close();
  });

  it('evicts the stalest window: one whose window restarted goes to the back, across sweeps', async () => {
    const r = rig({ maxSources: 3 });
    for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) r.guard.check(a, false);
    r.advance(1000);
    // .1's window restarts: now the newest. .2 goes first, then .3.
    r.guard.check('10.0.0.1', false);
    r.guard.check('10.0.0.4', false);
    r.guard.check('10.0.0.5', false);
    expect(await r.value('ringproof_flood_guard_evictions_total')).toBe(2);
    // .1 (restarted), .4 and .5 are tracked: each counts on from where it was.
    for (let i = 0; i < 4; i++) expect(r.guard.check('10.0.0.1', false)).toBe(false);
    expect(r.guard.check('10.0.0.1', false)).toBe(true);
    r.advance(1000);
    r.guard.sweep();
    expect(r.guard.trackedSources).toBe(0);
    for (let i = 6; i < 12; i++) r.guard.check(`10.0.0.${i}`, false);
    expect(r.guard.trackedSources).toBe(3);
    expect(await r.value('ringproof_flood_guard_evictions_total')).toBe(5);
    r.close();
  });

  it('forgets finished windows in the sweep', () => {
    const r = rig();
    for (let i = 0; i < 50; i++) r.guard.check(`10.0.0.${i}`, false);
    r.advance(500);
    for (let i = 50; i < 60; i++) r.guard.check(`10.0.0.${i}`, false);
    r.advance(600);
    r.guard.sweep();
    expect(r.guard.trackedSources).toBe(10);
    r.close();
  });
});

describe('maskAddress', () => {
  it('hides the host part of IPv4 and IPv6 addresses', () => {
    expect(maskAddress('198.51.100.23')).toBe('198.51.100.*');
    expect(maskAddress('2001:db8:1:2::5')).toBe('2001:db8:1:*');
    expect(maskAddress('::1')).toBe('0:0:1:*');
  });
});

describe('Edge with a flood guard', () => {
  it('drops a banned source silently with reason flood_ban, after the scanner drop and before the ACL answer', () => {
    const metrics = createMetrics({ defaults: false });
    const { logger } = logCapture('info');
    const floodGuard = new FloodGuard({ config: { ...CONFIG, maxRequests: 2 }, metrics: createFloodGuardMetrics(metrics.registry), logger });
    const edge = new Edge({
      config: {
        trunks: [{ name: 'carrier', sources: ['192.0.2.0/24'], defaultCountry: 'US', rejectCode: 486, cliSources: ['pai', 'from'] }],
        sip: { scannerUserAgents: ['friendly-scanner'], unknownSource: 'reject' },
      },
      metrics, logger, sink: new CollectingSink(), floodGuard,
    });
    const stranger = { address: '203.0.113.5', port: 5060, transport: 'udp' as const };
    const carrier = { address: '192.0.2.8', port: 5060, transport: 'udp' as const };
    expect(edge.admit(stranger, 'INVITE', undefined)).toEqual({ kind: 'forbid' });
    expect(edge.admit(stranger, 'INVITE', undefined)).toEqual({ kind: 'forbid' });
    expect(edge.admit(stranger, 'INVITE', undefined)).toEqual({ kind: 'drop', reason: DropReasons.FLOOD_BAN });
    expect(edge.admit(stranger, 'OPTIONS', undefined)).toEqual({ kind: 'drop', reason: DropReasons.FLOOD_BAN });
    expect(edge.admit(stranger, 'INVITE', 'friendly-scanner')).toEqual({ kind: 'drop', reason: DropReasons.SCANNER });
    for (let i = 0; i < 100; i++) expect(edge.admit(carrier, 'INVITE', undefined)).toMatchObject({ kind: 'accept', trunk: 'carrier' });
    floodGuard.close();
  });
});

describe('abuse.floodGuard configuration', () => {
  it('has defaults, reads a file and names a bad key', async () => {
    const { loadConfig } = await import('../../src/config/load-config.js');
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    expect(loadConfig({ env: {} }).abuse.floodGuard).toEqual({
      enabled: true, windowMs: 2000, maxRequests: 30, banSeconds: 120, trunkMaxRequests: 0, maxSources: 100_000,
    });
    const dir = mkdtempSync(join(tmpdir(), 'rp-flood-config-'));
    try {
      const good = join(dir, 'good.yaml');
      writeFileSync(good, 'abuse:\n  floodGuard:\n    maxRequests: 100\n    trunkMaxRequests: 5000\n');
      expect(loadConfig({ file: good, env: {} }).abuse.floodGuard).toMatchObject({ maxRequests: 100, trunkMaxRequests: 5000, banSeconds: 120 });
      for (const [yaml, key] of [
        ['abuse:\n  floodGuard:\n    windowMs: 5\n', 'abuse.floodGuard.windowMs'],
        ['abuse:\n  floodGuard:\n    maxRequests: 0\n', 'abuse.floodGuard.maxRequests'],
        ['abuse:\n  floodGuard:\n    banSecond: 3\n', 'abuse.floodGuard.banSecond'],
        ['abuse:\n  floodGuard:\n    enabled: maybe\n', 'abuse.floodGuard.enabled'],
      ] as const) {
        const file = join(dir, 'bad.yaml');
        writeFileSync(file, yaml);
        expect(() => loadConfig({ file, env: {} })).toThrow(new RegExp(`^${key.replace(/\./g, '\\.')}: `));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
