import { describe, expect, it } from 'vitest';
import { parseRedisUrl, redactRedisUrl, redisUrlProblem } from '../../src/redis/redis-url.js';
import { buildRedisOptions, roleOptions } from '../../src/redis/redis-connection.js';
import { bullmqPrefix } from '../../src/redis/bullmq-prefix.js';
import { ErrorCodes } from '../../src/errors/codes.js';

describe('parseRedisUrl', () => {
  it('parses standalone redis:// with credentials and db', () => {
    const p = parseRedisUrl('redis://user:p%40ss@cache.example:6380/3');
    expect(p).toEqual({ kind: 'standalone', options: { host: 'cache.example', port: 6380, username: 'user', password: 'p@ss', db: 3 } });
  });

  it('parses a password-only URL, default port, IPv6 and TLS', () => {
    expect(parseRedisUrl('redis://:secret@127.0.0.1')).toEqual({
      kind: 'standalone', options: { host: '127.0.0.1', port: 6379, password: 'secret' },
    });
    const v6 = parseRedisUrl('rediss://[::1]:7000');
    expect(v6.kind).toBe('standalone');
    expect(v6.options).toMatchObject({ host: '::1', port: 7000, tls: {} });
  });

  it('parses sentinel URLs into sentinels + master name', () => {
    const p = parseRedisUrl('redis-sentinel://:pw@s1.local:26379,s2.local:26380,[::1]/mymaster?db=2&sentinelPassword=sp');
    expect(p).toEqual({
      kind: 'sentinel',
      options: {
        sentinels: [{ host: 's1.local', port: 26379 }, { host: 's2.local', port: 26380 }, { host: '::1', port: 26379 }],
        name: 'mymaster',
        password: 'pw',
        db: 2,
        sentinelPassword: 'sp',
      },
    });
  });

  it('rejects a sentinel URL without master name', () => {
    expect(() => parseRedisUrl('redis-sentinel://s1:26379')).toThrowError(/master name/);
    try {
      parseRedisUrl('redis-sentinel://s1:26379/');
      expect.unreachable();
    } catch (err) {
      expect((err as { code: string }).code).toBe(ErrorCodes.CONFIG_INVALID);
    }
  });

  it('parses cluster URLs into startup nodes', () => {
    const p = parseRedisUrl('redis-cluster://u:pw@n1:7000,n2:7001,n3');
    expect(p).toEqual({
      kind: 'cluster',
      nodes: [{ host: 'n1', port: 7000 }, { host: 'n2', port: 7001 }, { host: 'n3', port: 6379 }],
      options: { redisOptions: { username: 'u', password: 'pw' } },
    });
    expect(() => parseRedisUrl('redis-cluster://n1:7000/1')).toThrowError(/no path/);
  });

  it('parses unix socket URLs', () => {
    expect(parseRedisUrl('unix:///var/lib/ringproof/redis/redis.sock')).toEqual({
      kind: 'standalone', options: { path: '/var/lib/ringproof/redis/redis.sock' },
    });
    expect(parseRedisUrl('redis+unix:///tmp/r.sock?db=1')).toEqual({ kind: 'standalone', options: { path: '/tmp/r.sock', db: 1 } });
    expect(() => parseRedisUrl('unix://relative.sock')).toThrowError(/absolute path/);
  });

  it('rejects unknown schemes, bad ports and unbracketed IPv6', () => {
    expect(() => parseRedisUrl('http://x')).toThrowError(/unknown scheme/);
    expect(redisUrlProblem('http://x')).toBe('unknown scheme: must be redis, rediss, redis-sentinel, redis-cluster or unix, got "http"');
    expect(redisUrlProblem('redis-cluster://n1:7000,n2:7001')).toBeUndefined();
    expect(() => parseRedisUrl('redis-cluster://n1:99999')).toThrowError(/bad port/);
    expect(() => parseRedisUrl('redis-cluster://::1:7000')).toThrowError(/brackets/);
  });

  it('redacts passwords for logs', () => {
    expect(redactRedisUrl('redis://user:secret@h:1/0')).toBe('redis://user:***@h:1/0');
    expect(redactRedisUrl('redis-sentinel://:pw@a,b/m?sentinelPassword=x&db=1')).toBe('redis-sentinel://:***@a,b/m?sentinelPassword=***&db=1');
    expect(redactRedisUrl('redis://h:1')).toBe('redis://h:1');
  });
});

describe('buildRedisOptions', () => {
  it('gives workers maxRetriesPerRequest null and producers a fail-fast connection', () => {
    const w = buildRedisOptions('redis://h:1', { role: 'worker' });
    expect(w.kind).toBe('standalone');
    expect(w.options).toMatchObject({ host: 'h', port: 1, maxRetriesPerRequest: null, enableOfflineQueue: true, protocol: 2 });
    const p = buildRedisOptions('redis://h:1', { role: 'producer', lazy: true });
    expect(p.options).toMatchObject({ maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true, connectionName: 'ringproof-producer' });
    expect(roleOptions('client').maxRetriesPerRequest).toBe(3);
  });

  it('puts per-node options under redisOptions for Cluster', () => {
    const c = buildRedisOptions('redis-cluster://:pw@n1:7000,n2:7001', { role: 'worker' });
    if (c.kind !== 'cluster') throw new Error('expected cluster');
    expect(c.nodes).toHaveLength(2);
    expect(c.options.enableOfflineQueue).toBe(true);
    expect(c.options.redisOptions).toMatchObject({ password: 'pw', maxRetriesPerRequest: null, protocol: 2 });
    expect(typeof c.options.clusterRetryStrategy).toBe('function');
  });

  it('keeps sentinel options and adds role options', () => {
    const s = buildRedisOptions('redis-sentinel://s1:26379/mymaster', { role: 'producer' });
    expect(s.kind).toBe('sentinel');
    expect(s.options).toMatchObject({ name: 'mymaster', sentinels: [{ host: 's1', port: 26379 }], enableOfflineQueue: false });
  });

  it('reconnects and resends on READONLY (a master demoted under its clients), on nothing else', () => {
    const s = buildRedisOptions('redis-sentinel://s1:26379/mymaster', { role: 'worker' });
    if (s.kind === 'cluster') throw new Error('expected sentinel');
    const decide = s.options.reconnectOnError as (err: Error) => unknown;
    expect(decide(new Error("READONLY You can't write against a read only replica."))).toBe(2);
    expect(decide(new Error('ERR unknown command'))).toBe(false);
    expect(decide(new Error('NOREPLICAS Not enough good replicas to write.'))).toBe(false);
  });
});

describe('bullmqPrefix', () => {
  it('hash-tags the prefix for Cluster', () => {
    expect(bullmqPrefix('ringproof')).toBe('{ringproof}');
    expect(bullmqPrefix('{ringproof}')).toBe('{ringproof}');
    expect(bullmqPrefix('app:{rp}')).toBe('app:{rp}');
    expect(bullmqPrefix('rp:')).toBe('{rp}');
    expect(bullmqPrefix('{}x')).toBe('{x}');
    expect(bullmqPrefix('')).toBe('{ringproof}');
  });
});
