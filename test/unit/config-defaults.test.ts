import { describe, expect, it } from 'vitest';
import { DEMO_DIDS, defaultConfig } from '../../src/config/defaults.js';
import { loadConfig } from '../../src/config/load-config.js';

describe('config defaults', () => {
  it('with no file, env or flags the loaded config equals the defaults', () => {
    const config = loadConfig({ env: {} });
    expect(config).toEqual(defaultConfig());
    expect(config.sourceFile).toBeUndefined();
  });

  it('describes a working demo: native SIP on UDP and TCP 5060, loopback HTTP, embedded Redis, demo DIDs', () => {
    const d = defaultConfig();
    expect(d.role).toBe('all');
    expect(d.sip.engine).toBe('native');
    expect(d.sip.listen.map((l) => l.text)).toEqual(['udp:0.0.0.0:5060', 'tcp:0.0.0.0:5060']);
    expect(d.sip.listen.map((l) => [l.transport, l.host, l.port, l.family])).toEqual([
      ['udp', '0.0.0.0', 5060, 4],
      ['tcp', '0.0.0.0', 5060, 4],
    ]);
    expect(d.sip.unknownSource).toBe('reject');
    expect(d.sip.maxMessageBytes).toBe(8192);
    expect([d.sip.t1Ms, d.sip.t2Ms, d.sip.t4Ms]).toEqual([500, 4000, 5000]);
    expect(d.sip.scannerUserAgents).toContain('friendly-scanner');
    expect(d.sip.drachtio).toEqual({ host: '127.0.0.1', port: 9022, secret: 'cymru' });
    expect(d.http.listen).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(d.redis).toEqual({ url: undefined, keyPrefix: '{ringproof}', embeddedBinary: 'redis-server', appendfsync: 'everysec', maxmemoryMb: 512, memoryHighWaterPercent: 90, waitReplicas: 'auto', waitTimeoutMs: 1000 });
    expect(d.spool).toEqual({ maxEvents: 1_000_000, batchSize: 200, batchDelayMs: 50 });
    expect(d.dids).toEqual([...DEMO_DIDS]);
    expect(d.trunks).toEqual([]);
    expect(d.webhooks).toEqual({ defaultUrl: undefined, secrets: [], maxAttempts: 8, timeoutMs: 5000, directFirstAttempt: true, allowPrivateTargets: [] });
    expect(d.verification).toEqual({ defaultTtlSeconds: 120, minTtlSeconds: 60, maxTtlSeconds: 300 });
    expect(d.trust).toEqual({
      failed: 'reject', minAttestation: 'none', requireNetworkAsserted: false, perVerification: 'tighten',
      identity: { anchorsFile: undefined, certificateDir: undefined, fetchX5u: true, allowPrivateX5u: false, maxAgeSeconds: 60, futureSkewSeconds: 5,
        crlFiles: [], crlSignersFile: undefined, crlRefreshSeconds: 300 },
    });
    expect(d.shutdownGraceSeconds).toBe(10);
  });

  it('hands out a fresh object each time', () => {
    const a = defaultConfig();
    a.dids.push('+15550100099');
    expect(defaultConfig().dids).toEqual([...DEMO_DIDS]);
  });

  it('returns a deeply frozen config', () => {
    const config = loadConfig({ env: {} });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.sip.listen[0])).toBe(true);
    expect(Object.isFrozen(config.dids)).toBe(true);
    expect(() => {
      (config.sip as { maxMessageBytes: number }).maxMessageBytes = 1;
    }).toThrow(TypeError);
  });
});
