import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { defaultConfig } from '../../src/config/defaults.js';
import { loadConfig } from '../../src/config/load-config.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(join(tmpdir(), 'ringproof-config-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeYaml(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const HASH = `sha256:${'ab'.repeat(32)}`;
const SECRET = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;

const FILE = writeYaml(
  'layered.yaml',
  `role: worker
stateDir: /var/lib/ringproof
sip:
  listen: ["udp:127.0.0.1:5070"]
  maxMessageBytes: 4096
  drachtio:
    port: 9023
http:
  listen: "127.0.0.1:9090"
log:
  level: warn
redis:
  url: redis://127.0.0.1:6380/0
`,
);

describe('loadConfig precedence: defaults < file < environment < flags', () => {
  it('the file overrides defaults key by key and leaves the rest at default', () => {
    const c = loadConfig({ file: FILE, env: {} });
    expect(c.role).toBe('worker');
    expect(c.stateDir).toBe('/var/lib/ringproof');
    expect(c.sip.listen).toEqual([{ transport: 'udp', host: '127.0.0.1', port: 5070, family: 4, text: 'udp:127.0.0.1:5070' }]);
    expect(c.sip.maxMessageBytes).toBe(4096);
    expect(c.sip.drachtio).toEqual({ host: '127.0.0.1', port: 9023, secret: 'cymru' });
    expect(c.sip.t1Ms).toBe(500);
    expect(c.http.listen).toEqual({ host: '127.0.0.1', port: 9090 });
    expect(c.log.level).toBe('warn');
    expect(c.redis.url).toBe('redis://127.0.0.1:6380/0');
    expect(c.redis.keyPrefix).toBe('{ringproof}');
    expect(c.dids).toEqual(defaultConfig().dids);
    expect(c.sourceFile).toBe(resolve(FILE));
  });

  it('the environment overrides the file, and numbers from it are read from text', () => {
    const c = loadConfig({
      file: FILE,
      env: {
        RINGPROOF_ROLE: 'edge',
        RINGPROOF_SIP_LISTEN: ' udp:[::1]:5080 , tcp:[::1]:5080 ',
        RINGPROOF_SIP_MAX_MESSAGE_BYTES: '2048',
        RINGPROOF_DRACHTIO_PORT: '9030',
        RINGPROOF_LOG_LEVEL: 'debug',
        RINGPROOF_HTTP_LISTEN: '[::1]:8181',
      },
    });
    expect(c.role).toBe('edge');
    expect(c.sip.listen.map((l) => [l.transport, l.host, l.port, l.family])).toEqual([
      ['udp', '::1', 5080, 6],
      ['tcp', '::1', 5080, 6],
    ]);
    expect(c.sip.maxMessageBytes).toBe(2048);
    expect(c.sip.drachtio.port).toBe(9030);
    expect(c.log.level).toBe('debug');
    expect(c.http.listen).toEqual({ host: '::1', port: 8181 });
    expect(c.stateDir).toBe('/var/lib/ringproof');
  });

  it('flags override the environment and the file', () => {
    const c = loadConfig({
      file: FILE,
      env: { RINGPROOF_ROLE: 'edge', RINGPROOF_LOG_LEVEL: 'debug', RINGPROOF_STATE_DIR: '/env', RINGPROOF_SIP_ENGINE: 'native' },
      flags: {
        role: 'api',
        logLevel: 'error',
        stateDir: '/flag',
        engine: 'drachtio',
        httpListen: 'localhost:7000',
        sipListen: ['udp:0.0.0.0:5090,tcp:0.0.0.0:5090', 'udp:[::]:5090'],
      },
    });
    expect(c.role).toBe('api');
    expect(c.log.level).toBe('error');
    expect(c.stateDir).toBe('/flag');
    expect(c.sip.engine).toBe('drachtio');
    expect(c.http.listen).toEqual({ host: 'localhost', port: 7000 });
    expect(c.sip.listen.map((l) => l.text)).toEqual(['udp:0.0.0.0:5090', 'tcp:0.0.0.0:5090', 'udp:[::]:5090']);
  });

  it('pipeline.workerThread: off by default, from the file or RINGPROOF_PIPELINE_WORKER_THREAD, and only true or false', () => {
    expect(loadConfig({ env: {} }).pipeline.workerThread).toBe(false);
    const file = writeYaml('worker-thread.yaml', 'pipeline:\n  workerThread: true\n');
    expect(loadConfig({ file, env: {} }).pipeline.workerThread).toBe(true);
    expect(loadConfig({ file, env: { RINGPROOF_PIPELINE_WORKER_THREAD: 'false' } }).pipeline.workerThread).toBe(false);
    expect(loadConfig({ env: { RINGPROOF_PIPELINE_WORKER_THREAD: 'TRUE' } }).pipeline.workerThread).toBe(true);
    expect(() => loadConfig({ env: { RINGPROOF_PIPELINE_WORKER_THREAD: 'yes' } })).toThrow(/^pipeline\.workerThread: must be true or false/);
  });

  it('an empty environment value counts as unset', () => {
    const c = loadConfig({ file: FILE, env: { RINGPROOF_ROLE: '', REDIS_URL: '  ' } });
    expect(c.role).toBe('worker');
    expect(c.redis.url).toBe('redis://127.0.0.1:6380/0');
  });

  it('RINGPROOF_REDIS_URL wins over REDIS_URL', () => {
    expect(loadConfig({ env: { REDIS_URL: 'redis://a:6379' } }).redis.url).toBe('redis://a:6379');
    const c = loadConfig({ env: { REDIS_URL: 'redis://a:6379', RINGPROOF_REDIS_URL: 'rediss://b:6380' } });
    expect(c.redis.url).toBe('rediss://b:6380');
  });

  it('accepts every Redis URL the connection accepts: multi-host Sentinel and Cluster, TLS forms, a unix socket', () => {
    for (const url of [
      'redis-cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002',
      'rediss-cluster://u:pw@[::1]:7000,[::1]:7001',
      'redis-sentinel://127.0.0.1:26379,127.0.0.1:26380,127.0.0.1:26381/mymaster?sentinelPassword=sp',
      'rediss-sentinel://s1:26379/mymaster',
      'unix:///var/lib/ringproof/redis.sock',
    ]) {
      expect(loadConfig({ env: { REDIS_URL: url } }).redis.url).toBe(url);
    }
  });

  it('RINGPROOF_CONFIG names the file when none is given; an explicit file wins over it', () => {
    const other = writeYaml('other.yaml', 'role: api\n');
    expect(loadConfig({ env: { RINGPROOF_CONFIG: FILE } }).role).toBe('worker');
    expect(loadConfig({ env: { RINGPROOF_CONFIG: FILE } }).sourceFile).toBe(resolve(FILE));
    expect(loadConfig({ file: other, env: { RINGPROOF_CONFIG: FILE } }).role).toBe('api');
  });

  it('an empty file, or empty sections, mean defaults', () => {
    expect(loadConfig({ file: writeYaml('empty.yaml', '# nothing\n'), env: {} })).toEqual({
      ...defaultConfig(),
      sourceFile: resolve(join(dir, 'empty.yaml')),
    });
    const c = loadConfig({ file: writeYaml('nulls.yaml', 'sip:\nredis:\n  url:\ntrunks:\n'), env: {} });
    expect(c.sip).toEqual(defaultConfig().sip);
    expect(c.redis.url).toBeUndefined();
    expect(c.trunks).toEqual([]);
  });

  it('webhooks.defaultUrl may point at a private receiver once webhooks.allowPrivateTargets lists it', () => {
    const c = loadConfig({
      file: writeYaml('private-hook.yaml', 'webhooks:\n  defaultUrl: http://127.0.0.1:9000/hook\n  allowPrivateTargets: ["127.0.0.0/8", "::1"]\n'),
      env: {},
    });
    expect(c.webhooks.defaultUrl).toBe('http://127.0.0.1:9000/hook');
    expect(c.webhooks.allowPrivateTargets).toEqual(['127.0.0.0/8', '::1']);
  });

  it('lists from the environment replace the file lists, and the other env lists parse', () => {
    const c = loadConfig({
      file: writeYaml('dids.yaml', 'dids: ["+442079460000"]\n'),
      env: {
        RINGPROOF_DIDS: '+15550100011, +1 555 010 0012',
        RINGPROOF_WEBHOOK_SECRETS: `${SECRET}`,
        RINGPROOF_WEBHOOK_URL: 'https://app.example/hooks',
        RINGPROOF_API_KEYS: `app:${HASH},ops:${HASH.replace('ab', 'cd')}`,
        RINGPROOF_REDIS_KEY_PREFIX: '{rp-test}',
        RINGPROOF_DRACHTIO_HOST: 'drachtio',
        RINGPROOF_DRACHTIO_SECRET: 's3cret',
        RINGPROOF_SIP_UNKNOWN_SOURCE: 'drop',
        RINGPROOF_WEBHOOK_ALLOW_PRIVATE_TARGETS: '10.20.0.0/16, fd00::/8',
        RINGPROOF_METRICS_LISTEN: '127.0.0.1:9464',
      },
    });
    expect(c.dids).toEqual(['+15550100011', '+15550100012']);
    expect(c.webhooks.secrets).toEqual([SECRET]);
    expect(c.webhooks.defaultUrl).toBe('https://app.example/hooks');
    expect(c.webhooks.allowPrivateTargets).toEqual(['10.20.0.0/16', 'fd00::/8']);
    expect(c.metrics.listen).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(c.api.keys).toEqual([
      { name: 'app', hash: HASH },
      { name: 'ops', hash: HASH.replace('ab', 'cd') },
    ]);
    expect(c.redis.keyPrefix).toBe('{rp-test}');
    expect(c.sip.drachtio).toEqual({ host: 'drachtio', port: 9022, secret: 's3cret' });
    expect(c.sip.unknownSource).toBe('drop');
  });
});

describe('trunks', () => {
  it('RINGPROOF_TRUNKS takes a JSON array and fills trunk defaults', () => {
    const trunks = [
      { name: 'carrier-a', sources: ['198.51.100.0/24', '2001:db8:1::/48'], defaultCountry: 'GB' },
      { name: 'carrier_b', sources: ['203.0.113.10'], defaultCountry: 'US', rejectCode: 603, cliSources: ['from', 'pai'] },
    ];
    const c = loadConfig({ env: { RINGPROOF_TRUNKS: JSON.stringify(trunks) } });
    expect(c.trunks).toEqual([
      { ...trunks[0], rejectCode: 486, cliSources: ['pai', 'rpid', 'from'] },
      trunks[1],
    ]);
  });

  it('RINGPROOF_TRUNKS replaces the trunks of the file', () => {
    const file = writeYaml('trunks.yaml', 'trunks:\n  - name: file-trunk\n    sources: [10.0.0.0/8]\n    defaultCountry: DE\n');
    expect(loadConfig({ file, env: {} }).trunks.map((t) => t.name)).toEqual(['file-trunk']);
    const env = { RINGPROOF_TRUNKS: '[{"name":"env-trunk","sources":["::1"],"defaultCountry":"FR"}]' };
    expect(loadConfig({ file, env }).trunks.map((t) => t.name)).toEqual(['env-trunk']);
  });
});

describe('the shipped example', () => {
  it('config/ringproof.example.yaml loads cleanly and sets every top-level key', () => {
    const file = join(repoRoot, 'config/ringproof.example.yaml');
    const c = loadConfig({ file, env: {} });
    expect(c.sourceFile).toBe(file);
    expect(c.trunks).toEqual([
      { name: 'local-test', sources: ['127.0.0.0/8', '::1'], defaultCountry: 'US', rejectCode: 486, cliSources: ['pai', 'rpid', 'from'] },
    ]);
    // The example documents the defaults, so apart from its trunk it must equal them.
    expect({ ...c, trunks: [], sourceFile: undefined }).toEqual(defaultConfig());
  });

  it('config/ringproof.example.yaml spells out every key of the config', () => {
    const written = parse(readFileSync(join(repoRoot, 'config/ringproof.example.yaml'), 'utf8')) as Record<string, unknown>;
    const missing: string[] = [];
    const walk = (expected: Record<string, unknown>, actual: Record<string, unknown>, prefix: string): void => {
      for (const [key, value] of Object.entries(expected)) {
        if (key === 'sourceFile') continue;
        if (!(key in actual)) missing.push(prefix + key);
        else if (value && typeof value === 'object' && !Array.isArray(value) && key !== 'listen') {
          walk(value as Record<string, unknown>, actual[key] as Record<string, unknown>, `${prefix}${key}.`);
        }
      }
    };
    walk(defaultConfig() as unknown as Record<string, unknown>, written, '');
    expect(missing).toEqual([]);
  });
});
