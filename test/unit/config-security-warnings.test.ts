import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RingproofConfig } from '../../src/config/config-types.js';
import { defaultConfig } from '../../src/config/defaults.js';
import { loadConfig } from '../../src/config/load-config.js';
import { secretKeysInFile, securityWarnings } from '../../src/config/security-warnings.js';

const DEFAULT_DRACHTIO_SECRET = defaultConfig().sip.drachtio.secret;
const dir = mkdtempSync(join(tmpdir(), 'ringproof-secwarn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function withDrachtio(host: string, secret = DEFAULT_DRACHTIO_SECRET, role: RingproofConfig['role'] = 'all'): RingproofConfig {
  const c = defaultConfig();
  return { ...c, role, sip: { ...c.sip, engine: 'drachtio', drachtio: { host, port: 9022, secret } } };
}

describe('drachtio default secret', () => {
  it.each(['10.0.0.5', 'drachtio', '2001:db8::5'])('warns when drachtio-server at %s is off loopback, without writing the secret', (host) => {
    const [w, ...rest] = securityWarnings(withDrachtio(host));
    expect(rest).toEqual([]);
    expect(w!.fields).toEqual({ key: 'sip.drachtio.secret', host, port: 9022 });
    expect(w!.message).toContain("sip.drachtio.secret is drachtio's well-known default");
    expect(JSON.stringify(w)).not.toContain(DEFAULT_DRACHTIO_SECRET);
  });

  it.each([
    ['loopback', withDrachtio('127.0.0.1')],
    ['localhost', withDrachtio('localhost')],
    ['::1', withDrachtio('::1')],
    ['a secret of its own', withDrachtio('10.0.0.5', 'a-long-secret-of-our-own')],
    ['a role without SIP', withDrachtio('10.0.0.5', DEFAULT_DRACHTIO_SECRET, 'worker')],
    ['the native engine', defaultConfig()],
  ])('stays quiet with %s', (_label, config) => {
    expect(securityWarnings(config)).toEqual([]);
  });
});

describe('config file permissions', () => {
  function file(name: string, text: string, mode: number): string {
    const p = join(dir, name);
    writeFileSync(p, text);
    chmodSync(p, mode);
    return p;
  }

  it('finds the secrets written in the file, and only those', () => {
    const p = file('s.yaml', 'sip:\n  drachtio:\n    secret: s3cret-value\nredis:\n  url: redis://127.0.0.1:6379\n', 0o600);
    expect(secretKeysInFile(p)).toEqual(['sip.drachtio.secret']);
    const q = file('t.yaml', 'redis:\n  url: redis://user:pw-value@127.0.0.1:6379\nwebhooks:\n  secrets: []\n', 0o600);
    expect(secretKeysInFile(q)).toEqual(['redis.url']);
  });

  it.each([[0o644, true], [0o640, true], [0o604, true], [0o600, false], [0o400, false]])('mode %o with a secret: warning %s', (mode, warns) => {
    const p = file(`m${mode.toString(8)}.yaml`, 'sip:\n  drachtio:\n    secret: s3cret-value\n', mode);
    const config = loadConfig({ file: p, env: {} });
    const warnings = securityWarnings(config);
    expect(warnings.length).toBe(warns ? 1 : 0);
    if (warns) {
      expect(warnings[0]!.fields).toEqual({ file: config.sourceFile, keys: ['sip.drachtio.secret'], mode: `0${mode.toString(8)}` });
      expect(JSON.stringify(warnings)).not.toContain('s3cret-value');
    }
  });

  it('a world-readable file without secrets (they come from the environment) is fine', () => {
    const p = file('nosecrets.yaml', 'log:\n  level: info\n', 0o644);
    expect(securityWarnings(loadConfig({ file: p, env: { RINGPROOF_DRACHTIO_SECRET: 'from-env-secret' } }))).toEqual([]);
  });
});
