import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors/codes.js';
import { RingproofError } from '../../src/errors/ringproof-error.js';
import { loadConfig, type LoadConfigOptions } from '../../src/config/load-config.js';

const dir = mkdtempSync(join(tmpdir(), 'ringproof-config-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function writeYaml(text: string): string {
  const file = join(dir, `c${n++}.yaml`);
  writeFileSync(file, text);
  return file;
}

function errorOf(opts: LoadConfigOptions): RingproofError {
  try {
    loadConfig(opts);
  } catch (err) {
    expect(err).toBeInstanceOf(RingproofError);
    return err as RingproofError;
  }
  throw new Error('loadConfig accepted a bad config');
}

/** The contract of the issue: CONFIG_INVALID, one line, starting with the key path. */
function expectInvalid(opts: LoadConfigOptions, keyPath: string, problem: string): string {
  const err = errorOf(opts);
  expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
  expect(err.message).not.toMatch(/[\r\n]/);
  expect(err.message.startsWith(`${keyPath}: `)).toBe(true);
  expect(err.message).toContain(problem);
  return err.message;
}

const TRUNK = 'trunks:\n  - name: a\n    sources: [127.0.0.0/8]\n    defaultCountry: US\n';

describe('config errors from the file name the key, the problem and the line', () => {
  it('bad listen address', () => {
    const file = writeYaml('sip:\n  listen:\n    - udp:0.0.0.0:5060\n    - udp:1.2.3:5060\n');
    expect(errorOf({ file, env: {} }).message).toBe(`sip.listen[1]: "udp:1.2.3:5060" is not an IP address (${file} line 4)`);
  });

  it('bad reject code', () => {
    const file = writeYaml(`${TRUNK}    rejectCode: 480\n`);
    expect(errorOf({ file, env: {} }).message).toBe(`trunks[0].rejectCode: must be 486 or 603, got 480 (${file} line 5)`);
  });

  it('unknown key, with a suggestion for a near miss', () => {
    const file = writeYaml('sip:\n  lissten: [udp:0.0.0.0:5060]\n');
    expect(errorOf({ file, env: {} }).message).toBe(`sip.lissten: unknown key (did you mean "listen"?) (${file} line 2)`);
  });

  it.each([
    ['unknown top-level key', 'sipp:\n  listen: []\n', 'sipp', 'unknown key (did you mean "sip"?)'],
    ['unknown key far from any', 'colour: blue\n', 'colour', 'unknown key'],
    ['sourceFile is not settable', 'sourceFile: x\n', 'sourceFile', 'unknown key'],
    ['__proto__ is just an unknown key', '__proto__:\n  role: edge\n', '__proto__', 'unknown key'],
    ['unknown trunk key', `${TRUNK}    rejectcode: 603\n`, 'trunks[0].rejectcode', 'did you mean "rejectCode"?'],
    ['section not a mapping', 'sip: udp:0.0.0.0:5060\n', 'sip', 'must be a mapping of keys, got "udp:0.0.0.0:5060"'],
    ['list expected', 'sip:\n  listen: udp:0.0.0.0:5060\n', 'sip.listen', 'must be a list, got "udp:0.0.0.0:5060"'],
    ['empty listen list', 'sip:\n  listen: []\n', 'sip.listen', 'must list at least one address'],
    ['duplicate listen spec', 'sip:\n  listen: [udp:0.0.0.0:5060, tcp:0.0.0.0:5060, udp:0.0.0.0:5060]\n', 'sip.listen[2]', 'duplicates sip.listen[0]'],
    ['engine enum', 'sip:\n  engine: kamailio\n', 'sip.engine', 'must be "native" or "drachtio", got "kamailio"'],
    ['role enum', 'role: proxy\n', 'role', 'must be one of "all", "edge", "worker", "api", got "proxy"'],
    ['log level enum', 'log:\n  level: verbose\n', 'log.level', 'got "verbose"'],
    ['integer range', 'sip:\n  maxMessageBytes: 100\n', 'sip.maxMessageBytes', 'must be an integer from 512 to 65535, got 100'],
    ['integer not a number', 'sip:\n  maxMessageBytes: "8192"\n', 'sip.maxMessageBytes', 'must be an integer from 512 to 65535, got "8192"'],
    ['integer not whole', 'spool:\n  batchSize: 1.5\n', 'spool.batchSize', 'got 1.5'],
    ['waitReplicas word', 'redis:\n  waitReplicas: all\n', 'redis.waitReplicas', 'must be "auto" or an integer from 0 to 16, got "all"'],
    ['waitReplicas range', 'redis:\n  waitReplicas: 17\n', 'redis.waitReplicas', 'must be "auto" or an integer from 0 to 16, got 17'],
    ['waitTimeoutMs range', 'redis:\n  waitTimeoutMs: 5000\n', 'redis.waitTimeoutMs', 'must be an integer from 10 to 4000, got 5000'],
    ['t1 not below t2', 'sip:\n  t1Ms: 4000\n  t2Ms: 4000\n', 'sip.t2Ms', 'must be greater than sip.t1Ms (4000), got 4000'],
    ['server header injection', 'sip:\n  serverHeader: "x\\r\\nVia: evil"\n', 'sip.serverHeader', 'printable ASCII'],
    ['drachtio port', 'sip:\n  drachtio:\n    port: 0\n', 'sip.drachtio.port', 'from 1 to 65535'],
    ['http listen', 'http:\n  listen: "[::1]8080"\n', 'http.listen', 'IPv6 addresses are written like'],
    ['trunk name required', 'trunks:\n  - sources: [127.0.0.1]\n    defaultCountry: US\n', 'trunks[0].name', 'is required'],
    ['trunk name charset', 'trunks:\n  - name: Carrier A\n    sources: [127.0.0.1]\n    defaultCountry: US\n', 'trunks[0].name', 'got "Carrier A"'],
    ['trunk name unique', `${TRUNK}  - name: a\n    sources: ["::1"]\n    defaultCountry: GB\n`, 'trunks[1].name', '"a" is already used by trunks[0]'],
    ['trunk sources required', 'trunks:\n  - name: a\n    defaultCountry: US\n', 'trunks[0].sources', 'is required'],
    ['trunk sources empty', 'trunks:\n  - name: a\n    sources: []\n    defaultCountry: US\n', 'trunks[0].sources', 'at least one'],
    ['trunk bad CIDR', 'trunks:\n  - name: a\n    sources: [127.0.0.1, 10.0.0.0/33]\n    defaultCountry: US\n', 'trunks[0].sources[1]', 'prefix length must be from 0 to 32'],
    ['trunk bad v6 CIDR', 'trunks:\n  - name: a\n    sources: ["2001:db8::/129"]\n    defaultCountry: US\n', 'trunks[0].sources[0]', 'from 0 to 128'],
    ['trunk country lower case', 'trunks:\n  - name: a\n    sources: [127.0.0.1]\n    defaultCountry: us\n', 'trunks[0].defaultCountry', 'got "us"'],
    ['trunk country unknown', 'trunks:\n  - name: a\n    sources: [127.0.0.1]\n    defaultCountry: XX\n', 'trunks[0].defaultCountry', 'got "XX"'],
    ['cliSources unknown', `${TRUNK}    cliSources: [pai, diversion]\n`, 'trunks[0].cliSources[1]', 'must be one of "pai", "rpid", "from", got "diversion"'],
    ['cliSources duplicate', `${TRUNK}    cliSources: [pai, from, pai]\n`, 'trunks[0].cliSources[2]', '"pai" is listed twice'],
    ['cliSources empty', `${TRUNK}    cliSources: []\n`, 'trunks[0].cliSources', 'at least one'],
    ['did not E.164', 'dids: ["5550100001"]\n', 'dids[0]', 'is not an E.164 number'],
    ['did too short', 'dids: ["+1555"]\n', 'dids[0]', 'is not an E.164 number'],
    ['did unquoted', 'dids:\n  - +15550100001\n', 'dids[0]', 'must be a quoted string'],
    ['did duplicate', 'dids: ["+15550100001", "+1 555 010 0001"]\n', 'dids[1]', 'is already listed at dids[0]'],
    ['dids empty', 'dids: []\n', 'dids', 'at least one'],
    ['webhook secret prefix', 'webhooks:\n  secrets: [abc]\n', 'webhooks.secrets[0]', 'must be "whsec_"'],
    ['webhook secret not base64', 'webhooks:\n  secrets: ["whsec_not base64!!"]\n', 'webhooks.secrets[0]', 'must be "whsec_"'],
    ['webhook secret too short', 'webhooks:\n  secrets: [whsec_dGVzdA==]\n', 'webhooks.secrets[0]', '24 to 64 random bytes'],
    ['webhook url', 'webhooks:\n  defaultUrl: ftp://example.com/hook\n', 'webhooks.defaultUrl', 'must use https (or http to a loopback host), got "ftp://example.com/hook"'],
    ['webhook url private', 'webhooks:\n  defaultUrl: https://10.1.2.3/hook\n', 'webhooks.defaultUrl', 'must not point at 10.1.2.3, a private-network address (allow it with webhooks.allowPrivateTargets)'],
    ['webhook url loopback', 'webhooks:\n  defaultUrl: http://127.0.0.1:9000/hook\n', 'webhooks.defaultUrl', 'must not point at 127.0.0.1, a loopback address'],
    ['allowPrivateTargets not a CIDR', 'webhooks:\n  allowPrivateTargets: [10.0.0.0/33]\n', 'webhooks.allowPrivateTargets[0]', '10.0.0.0/33'],
    ['allowPrivateTargets not a list', 'webhooks:\n  allowPrivateTargets: 10.0.0.0/8\n', 'webhooks.allowPrivateTargets', 'list'],
    ['metrics listen', 'metrics:\n  listen: nope\n', 'metrics.listen', 'nope'],
    ['metrics listen same as http', 'http:\n  listen: 127.0.0.1:9100\nmetrics:\n  listen: 127.0.0.1:9100\n', 'metrics.listen', 'must differ from http.listen (127.0.0.1:9100)'],
    ['api key hash', 'api:\n  keys:\n    - name: app\n      hash: sha256:abc\n', 'api.keys[0].hash', '64 hex digits'],
    ['api key hash missing', 'api:\n  keys:\n    - name: app\n', 'api.keys[0].hash', 'is required'],
    ['redis scheme', 'redis:\n  url: http://127.0.0.1:6379\n', 'redis.url', 'must be redis, rediss, redis-sentinel, redis-cluster or unix, got "http"'],
    ['redis not a URL', 'redis:\n  url: localhost\n', 'redis.url', 'is not a URL'],
    ['redis prefix hash tag', 'redis:\n  keyPrefix: ringproof\n', 'redis.keyPrefix', 'must start with a {hash tag}'],
    ['ttl order', 'verification:\n  minTtlSeconds: 300\n  maxTtlSeconds: 60\n', 'verification.maxTtlSeconds', 'must not be less than verification.minTtlSeconds (300)'],
    ['default ttl in range', 'verification:\n  defaultTtlSeconds: 30\n', 'verification.defaultTtlSeconds', 'must be from minTtlSeconds (60) to maxTtlSeconds (300), got 30'],
    ['top level not a mapping', '- a\n- b\n', '(top level)', 'must be a mapping of keys, got a list'],
  ])('%s', (_label, yaml, keyPath, problem) => {
    expectInvalid({ file: writeYaml(yaml), env: {} }, keyPath, problem);
  });

  it('never echoes a secret that failed validation', () => {
    const msg = expectInvalid({ file: writeYaml('webhooks:\n  secrets: [whsec_dGVzdA==]\n'), env: {} }, 'webhooks.secrets[0]', 'whsec_');
    expect(msg).not.toContain('dGVzdA');
  });
});

describe('config errors from the environment and flags name the variable or flag as well as the key', () => {
  it('a number from the environment', () => {
    const err = errorOf({ env: { RINGPROOF_SIP_MAX_MESSAGE_BYTES: 'abc' } });
    expect(err.message).toBe('sip.maxMessageBytes: must be an integer from 512 to 65535, got "abc" (env RINGPROOF_SIP_MAX_MESSAGE_BYTES)');
  });

  it.each([
    [{ RINGPROOF_SIP_LISTEN: 'udp:0.0.0.0:5060,udp:1.2.3:5060' }, 'sip.listen[1]', 'is not an IP address', 'env RINGPROOF_SIP_LISTEN'],
    [{ RINGPROOF_SIP_LISTEN: 'udp:0.0.0.0:5060,udp:0.0.0.0:5060' }, 'sip.listen[1]', 'duplicates sip.listen[0]', 'env RINGPROOF_SIP_LISTEN'],
    [{ RINGPROOF_DRACHTIO_PORT: '90x' }, 'sip.drachtio.port', 'got "90x"', 'env RINGPROOF_DRACHTIO_PORT'],
    [{ RINGPROOF_ROLE: 'router' }, 'role', 'got "router"', 'env RINGPROOF_ROLE'],
    [{ REDIS_URL: 'mysql://x' }, 'redis.url', 'got "mysql"', 'env REDIS_URL'],
    [{ RINGPROOF_REDIS_URL: 'mysql://x' }, 'redis.url', 'got "mysql"', 'env RINGPROOF_REDIS_URL'],
    [{ RINGPROOF_DIDS: '+15550100001,+1555' }, 'dids[1]', 'is not an E.164 number', 'env RINGPROOF_DIDS'],
    [{ RINGPROOF_WEBHOOK_SECRETS: 'nope' }, 'webhooks.secrets[0]', 'whsec_', 'env RINGPROOF_WEBHOOK_SECRETS'],
    [{ RINGPROOF_API_KEYS: 'just-a-token' }, 'api.keys[0]', 'must look like name:sha256:', 'env RINGPROOF_API_KEYS'],
    [{ RINGPROOF_API_KEYS: 'app:sha256:zz' }, 'api.keys[0].hash', '64 hex digits', 'env RINGPROOF_API_KEYS'],
    [{ RINGPROOF_TRUNKS: '[{"name":"a"' }, 'trunks', 'is not valid JSON', 'env RINGPROOF_TRUNKS'],
    [{ RINGPROOF_TRUNKS: '{"name":"a"}' }, 'trunks', 'must be a list, got a mapping', 'env RINGPROOF_TRUNKS'],
    [
      { RINGPROOF_TRUNKS: '[{"name":"a","sources":["127.0.0.1"],"defaultCountry":"US","rejectCode":480}]' },
      'trunks[0].rejectCode', 'must be 486 or 603, got 480', 'env RINGPROOF_TRUNKS',
    ],
    [
      { RINGPROOF_TRUNKS: '[{"name":"a","sources":["127.0.0.1"],"defaultCountry":"US","rejectCode":"603"}]' },
      'trunks[0].rejectCode', 'got "603"', 'env RINGPROOF_TRUNKS',
    ],
  ])('%j', (env, keyPath, problem, origin) => {
    const msg = expectInvalid({ env }, keyPath, problem);
    expect(msg).toContain(`(${origin})`);
  });

  it('does not echo an API token pasted where a hash belongs', () => {
    const msg = expectInvalid({ env: { RINGPROOF_API_KEYS: 'rp_live_secret_token' } }, 'api.keys[0]', 'name:sha256');
    expect(msg).not.toContain('rp_live_secret_token');
  });

  it.each([
    [{ sipListen: ['udp:0.0.0.0:5060', 'tcp:[::1]:99999'] }, 'sip.listen[1]', 'port must be from 1 to 65535', 'flag --sip-listen'],
    [{ httpListen: 'nope' }, 'http.listen', 'has no port', 'flag --http-listen'],
    [{ logLevel: 'loud' }, 'log.level', 'got "loud"', 'flag --log-level'],
    [{ role: 'x' }, 'role', 'got "x"', 'flag --role'],
    [{ stateDir: ' ' }, 'stateDir', 'must not be empty', 'flag --state-dir'],
    [{ engine: 'asterisk' }, 'sip.engine', 'got "asterisk"', 'flag --engine'],
  ])('flags %j', (flags, keyPath, problem, origin) => {
    const msg = expectInvalid({ env: {}, flags }, keyPath, problem);
    expect(msg).toContain(`(${origin})`);
  });

  it('blames the flag, not the environment, when the flag replaced the value', () => {
    const msg = expectInvalid({ env: { RINGPROOF_ROLE: 'edge' }, flags: { role: 'bad' } }, 'role', 'got "bad"');
    expect(msg).toContain('flag --role');
    expect(msg).not.toContain('RINGPROOF_ROLE');
  });
});

describe('unreadable config files', () => {
  it('a missing file names the file', () => {
    const file = join(dir, 'missing.yaml');
    const err = errorOf({ file, env: {} });
    expect(err.code).toBe(ErrorCodes.CONFIG_UNREADABLE);
    expect(err.message).toContain(file);
    expect(err.message).toContain('ENOENT');
    expect(err.message).not.toMatch(/\n/);
  });

  it('a missing file named by RINGPROOF_CONFIG says so', () => {
    const file = join(dir, 'also-missing.yaml');
    const err = errorOf({ env: { RINGPROOF_CONFIG: file } });
    expect(err.code).toBe(ErrorCodes.CONFIG_UNREADABLE);
    expect(err.message).toContain(file);
    expect(err.message).toContain('RINGPROOF_CONFIG');
  });

  it.each([
    ['a syntax error', 'sip:\n  listen: [udp:0.0.0.0:5060\nlog:\n  level: info\n', /line \d+/],
    ['a duplicate key', 'role: all\nlog:\n  level: info\nrole: edge\n', /unique at line 4/],
    ['a bad indent', 'sip:\n  engine: native\n   t1Ms: 500\n', /line 2, column 11/],
  ])('%s names the file and the YAML line', (_label, yaml, line) => {
    const file = writeYaml(yaml);
    const err = errorOf({ file, env: {} });
    expect(err.code).toBe(ErrorCodes.CONFIG_UNREADABLE);
    expect(err.message).toContain(file);
    expect(err.message).toMatch(line);
    expect(err.message).not.toMatch(/\n/);
  });
});

describe('trust (caller-trust policy)', () => {
  it('reads trust.failed and trust.minAttestation from the file; the environment wins', () => {
    const file = writeYaml('trust:\n  failed: accept\n  minAttestation: B\n');
    expect(loadConfig({ file, env: {} }).trust).toMatchObject({ failed: 'accept', minAttestation: 'B' });
    expect(loadConfig({ file, env: { RINGPROOF_TRUST_FAILED: 'reject', RINGPROOF_TRUST_MIN_ATTESTATION: 'A' } }).trust)
      .toMatchObject({ failed: 'reject', minAttestation: 'A' });
    const policy = writeYaml('trust:\n  requireNetworkAsserted: true\n  perVerification: any\n');
    expect(loadConfig({ file: policy, env: {} }).trust).toMatchObject({ requireNetworkAsserted: true, perVerification: 'any' });
    expect(loadConfig({ file: policy, env: { RINGPROOF_TRUST_REQUIRE_NETWORK_ASSERTED: 'false', RINGPROOF_TRUST_PER_VERIFICATION: 'tighten' } }).trust)
      .toMatchObject({ requireNetworkAsserted: false, perVerification: 'tighten' });
    const identity = writeYaml('trust:\n  identity:\n    anchorsFile: /etc/sti/anchors.pem\n    fetchX5u: false\n    maxAgeSeconds: 30\n    crlFiles: [/etc/sti/sti-pa.crl]\n');
    expect(loadConfig({ file: identity, env: { RINGPROOF_TRUST_CERTIFICATE_DIR: '/var/lib/sti' } }).trust.identity).toEqual({
      anchorsFile: '/etc/sti/anchors.pem', certificateDir: '/var/lib/sti', fetchX5u: false, allowPrivateX5u: false, maxAgeSeconds: 30, futureSkewSeconds: 5,
      crlFiles: ['/etc/sti/sti-pa.crl'], crlSignersFile: undefined, crlRefreshSeconds: 300,
    });
  });

  it('names the key of a bad value or an unknown key', () => {
    expectInvalid({ file: writeYaml('trust:\n  failed: maybe\n'), env: {} }, 'trust.failed', 'must be "reject" or "accept", got "maybe"');
    expectInvalid({ env: { RINGPROOF_TRUST_MIN_ATTESTATION: 'D' } }, 'trust.minAttestation', 'must be one of "none", "C", "B", "A"');
    expectInvalid({ file: writeYaml('trust:\n  verstat: strict\n'), env: {} }, 'trust.verstat', 'unknown');
    expectInvalid({ env: { RINGPROOF_TRUST_REQUIRE_NETWORK_ASSERTED: 'yes' } }, 'trust.requireNetworkAsserted', 'true or false');
    expectInvalid({ file: writeYaml('trust:\n  perVerification: relax\n'), env: {} }, 'trust.perVerification', 'must be "tighten" or "any"');
    expectInvalid({ file: writeYaml('trust: strict\n'), env: {} }, 'trust', 'mapping');
    expectInvalid({ file: writeYaml('trust:\n  identity:\n    maxAgeSeconds: 0\n'), env: {} }, 'trust.identity.maxAgeSeconds', 'from 1 to 3600');
    expectInvalid({ file: writeYaml('trust:\n  identity:\n    fetchX5u: sometimes\n'), env: {} }, 'trust.identity.fetchX5u', 'true or false');
    expectInvalid({ file: writeYaml('trust:\n  identity:\n    anchorFile: a.pem\n'), env: {} }, 'trust.identity.anchorFile', 'did you mean "anchorsFile"');
    expectInvalid({ file: writeYaml('trust:\n  identity:\n    crlFiles: /etc/sti/sti-pa.crl\n'), env: {} }, 'trust.identity.crlFiles', 'list');
    expectInvalid({ file: writeYaml('trust:\n  identity:\n    crlRefreshSeconds: 1\n'), env: {} }, 'trust.identity.crlRefreshSeconds', 'from 10 to 86400');
  });
});

describe('limits (creation limits)', () => {
  it('reads limits.create over the defaults, field by field, and per key; the environment can turn them off', () => {
    const hash = `sha256:${'a'.repeat(64)}`;
    const file = writeYaml(`limits:\n  create:\n    perNumber: { count: 2 }\n    perPrefix: { digits: 7 }\napi:\n  keys:\n    - name: big\n      hash: ${hash}\n      limits:\n        create:\n          perApiKey: { count: 9000 }\n`);
    const c = loadConfig({ file, env: {} });
    expect(c.limits.create.enabled).toBe(true);
    expect(c.limits.create.perNumber).toEqual({ count: 2, windowSeconds: 3600 });
    expect(c.limits.create.perPrefix).toEqual({ count: 20, windowSeconds: 3600, digits: 7 });
    expect(c.api.keys[0]?.limits).toEqual({ create: { perApiKey: { count: 9000, windowSeconds: 3600 } } });
    expect(loadConfig({ file, env: { RINGPROOF_CREATE_LIMITS_ENABLED: 'false' } }).limits.create.enabled).toBe(false);
  });

  it('names the key of a bad value or an unknown key', () => {
    expectInvalid({ file: writeYaml('limits:\n  create:\n    perNumber: { count: -1 }\n'), env: {} },
      'limits.create.perNumber.count', 'must be an integer from 0 to 1000000000, got -1');
    expectInvalid({ file: writeYaml('limits:\n  create:\n    perCountry: { windowSeconds: 0 }\n'), env: {} },
      'limits.create.perCountry.windowSeconds', 'must be an integer from 1 to 604800');
    expectInvalid({ file: writeYaml('limits:\n  create:\n    perNumber: { digits: 3 }\n'), env: {} },
      'limits.create.perNumber.digits', 'unknown key');
    expectInvalid({ file: writeYaml('limits:\n  create:\n    perNumbr: { count: 3 }\n'), env: {} },
      'limits.create.perNumbr', 'unknown key (did you mean "perNumber"?)');
    expectInvalid({ file: writeYaml(`api:\n  keys:\n    - name: k\n      hash: sha256:${'b'.repeat(64)}\n      limits:\n        create:\n          enabled: false\n`), env: {} },
      'api.keys[0].limits.create.enabled', 'unknown key');
    expectInvalid({ file: writeYaml(''), env: { RINGPROOF_CREATE_LIMITS_ENABLED: 'maybe' } },
      'limits.create.enabled', 'must be true or false');
  });
});

describe('outbound trunks (flash calls, #12)', () => {
  const T = (extra: string): string =>
    `outbound:\n  trunks:\n    - name: carrier-a\n      target: udp:sbc.example.net:5060\n      cliPool: ["+44207946XXXX"]\n${extra}`;

  it('reads a trunk with its defaults', () => {
    const c = loadConfig({ env: {}, file: writeYaml(T('')) });
    expect(c.outbound.trunks[0]).toMatchObject({
      name: 'carrier-a', target: { transport: 'udp', host: 'sbc.example.net', port: 5060 }, domain: 'sbc.example.net',
      fromDomain: 'sbc.example.net', numberFormat: 'e164', pai: true, credentials: undefined, cps: 10, maxConcurrent: 50,
      cliPool: [{ prefix: '+44207946', digits: 4 }],
    });
    expect(loadConfig({ env: {} }).outbound.trunks).toEqual([]);
  });

  it.each([
    ['      target: sbc.example.net:5060\n', 'outbound.trunks[0].target', 'must look like udp:'],
    ['      cps: 0\n', 'outbound.trunks[0].cps', 'must be an integer from 1'],
    ['      credentials: { username: "a\\"b", password: x }\n', 'outbound.trunks[0].credentials.username', 'quotes'],
    ['      credentials: { username: a }\n', 'outbound.trunks[0].credentials.password', 'is required'],
    ['      numberFormat: national\n', 'outbound.trunks[0].numberFormat', 'must be "e164" or "digits"'],
    ['      outboundProxy: tcp:[::1]\n', 'outbound.trunks[0].outboundProxy', 'IPv6 addresses are written like [::1]:5060'],
  ])('refuses %j', (extra, key, problem) => {
    // A later key of the same name overrides the first in YAML maps: write the bad one on its own trunk.
    const yaml = extra.includes('target:')
      ? `outbound:\n  trunks:\n    - name: carrier-a\n${extra}      cliPool: ["+44207946XXXX"]\n`
      : T(extra);
    expectInvalid({ env: {}, file: writeYaml(yaml) }, key, problem);
  });

  it.each(['+44207946X', '442079460123', '+44207946XX12', '+4420794600000000XX'])('refuses the caller ID %j', (cli) => {
    const yaml = `outbound:\n  trunks:\n    - name: a\n      target: udp:127.0.0.1:5080\n      cliPool: ["${cli}"]\n`;
    expectInvalid({ env: {}, file: writeYaml(yaml) }, 'outbound.trunks[0].cliPool[0]', 'E.164');
  });

  it('refuses a missing pool, duplicate names and a minimum ring past the ring timeout', () => {
    expectInvalid({ env: {}, file: writeYaml('outbound:\n  trunks:\n    - name: a\n      target: udp:127.0.0.1:5080\n') }, 'outbound.trunks[0].cliPool', 'is required');
    const two = 'outbound:\n  trunks:\n    - { name: a, target: "udp:127.0.0.1:5080", cliPool: ["+4420794600XX"] }\n    - { name: a, target: "udp:127.0.0.1:5081", cliPool: ["+4420794601XX"] }\n';
    expectInvalid({ env: {}, file: writeYaml(two) }, 'outbound.trunks[1].name', 'already used');
    expectInvalid({ env: {}, file: writeYaml('outbound:\n  minRingMs: 5000\n  ringTimeoutMs: 4000\n') }, 'outbound.minRingMs', 'less than outbound.ringTimeoutMs');
    expectInvalid({ env: {}, file: writeYaml('outbound:\n  bindAddress: eth0\n') }, 'outbound.bindAddress', 'IP address');
  });

  it('reads the flash-call API settings over their defaults, and names a bad one', () => {
    const c = loadConfig({ env: {}, file: writeYaml('outbound:\n  reportAttempts: 5\n  perNumber: { count: 1 }\n  fallback: none\n  reportWindowSeconds: 45\n') });
    expect(c.outbound).toMatchObject({ reportAttempts: 5, perNumber: { count: 1, windowSeconds: 3600 }, fallback: 'none', reportWindowSeconds: 45 });
    expect(loadConfig({ env: {} }).outbound).toMatchObject({ reportAttempts: 3, perNumber: { count: 3, windowSeconds: 3600 }, fallback: 'inbound_call', reportWindowSeconds: 20 });
    expectInvalid({ env: {}, file: writeYaml('outbound:\n  reportWindowSeconds: 0\n') }, 'outbound.reportWindowSeconds', 'must be an integer from 1');
    expectInvalid({ env: {}, file: writeYaml('outbound:\n  reportAttempts: 0\n') }, 'outbound.reportAttempts', 'must be an integer from 1');
    expectInvalid({ env: {}, file: writeYaml('outbound:\n  perNumber: { count: -1 }\n') }, 'outbound.perNumber.count', 'must be an integer');
    expectInvalid({ env: {}, file: writeYaml('outbound:\n  fallback: sms\n') }, 'outbound.fallback', 'must be "inbound_call" or "none"');
  });
});

describe('limits.calls (call limits)', () => {
  it('reads limits.calls over the defaults, field by field; the environment can turn them off', () => {
    const file = writeYaml('limits:\n  calls:\n    perCli: { count: 4 }\n    perTrunk: { count: 500, windowSeconds: 10 }\n');
    const c = loadConfig({ file, env: {} });
    expect(c.limits.calls).toEqual({
      enabled: true,
      perCli: { count: 4, windowSeconds: 600 },
      perCliDids: { count: 3, windowSeconds: 3600 },
      perDid: { count: 1200, windowSeconds: 60 },
      perTrunk: { count: 500, windowSeconds: 10 },
    });
    expect(loadConfig({ file, env: { RINGPROOF_CALL_LIMITS_ENABLED: 'false' } }).limits.calls.enabled).toBe(false);
  });

  it('names the bad key', () => {
    expectInvalid({ file: writeYaml('limits:\n  calls:\n    perCliDids: { count: 1.5 }\n'), env: {} },
      'limits.calls.perCliDids.count', 'must be an integer from 0 to 1000000000');
    expectInvalid({ file: writeYaml('limits:\n  calls:\n    perDid: { windowSeconds: 700000 }\n'), env: {} },
      'limits.calls.perDid.windowSeconds', 'must be an integer from 1 to 604800');
    expectInvalid({ file: writeYaml('limits:\n  calls:\n    perCaller: { count: 3 }\n'), env: {} },
      'limits.calls.perCaller', 'unknown key');
    expectInvalid({ file: writeYaml(''), env: { RINGPROOF_CALL_LIMITS_ENABLED: 'maybe' } },
      'limits.calls.enabled', 'must be true or false');
  });
});

describe('limits.conversion (low-conversion throttle)', () => {
  it('reads it over the defaults and names the bad key', () => {
    const c = loadConfig({ file: writeYaml('limits:\n  conversion:\n    minRate: 0.5\n    throttle: { count: 1 }\n'), env: {} });
    expect(c.limits.conversion).toEqual({
      enabled: true, prefixDigits: 7, windowSeconds: 86400, minCreated: 50, minRate: 0.5, throttle: { count: 1, windowSeconds: 3600 },
    });
    expectInvalid({ file: writeYaml('limits:\n  conversion:\n    minRate: 1.5\n'), env: {} },
      'limits.conversion.minRate', 'must be a number from 0 to 1, got 1.5');
    expectInvalid({ file: writeYaml('limits:\n  conversion:\n    prefixDigits: 0\n'), env: {} },
      'limits.conversion.prefixDigits', 'must be an integer from 1 to 15');
    expectInvalid({ file: writeYaml('limits:\n  conversion:\n    throttle: { count: -2 }\n'), env: {} },
      'limits.conversion.throttle.count', 'must be an integer from 0 to 1000000000');
  });
});

describe('didPool', () => {
  it('reads it over the defaults and names the bad key', () => {
    expect(loadConfig({ file: writeYaml('didPool:\n  quarantineDays: 30\n'), env: {} }).didPool)
      .toMatchObject({ quarantineDays: 30, restoreQuietMinutes: 60, restoreMaxUnwantedCalls: 10, flag: { enabled: true, factor: 10 } });
    expectInvalid({ file: writeYaml('didPool:\n  flag: { factor: 1 }\n'), env: {} }, 'didPool.flag.factor', 'must be an integer from 2 to 1000');
    expectInvalid({ file: writeYaml('didPool:\n  restoreQuietMinutes: 5000\n'), env: {} },
      'didPool.restoreQuietMinutes', 'must be an integer from 1 to 1440');
    expectInvalid({ file: writeYaml('didPool:\n  quarantine: 3\n'), env: {} }, 'didPool.quarantine', 'unknown key');
  });
});
