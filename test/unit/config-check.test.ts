import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkConfigFile } from '../../src/config/check-config.js';
import { hashApiKey } from '../../src/config/hash-api-key.js';
import { loadConfig } from '../../src/config/load-config.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(join(tmpdir(), 'ringproof-config-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('checkConfigFile', () => {
  it('reports OK with a one-line summary for the example file', () => {
    const file = join(repoRoot, 'config/ringproof.example.yaml');
    const r = checkConfigFile(file, {});
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.summary).toContain(`${file}: OK`);
    expect(r.summary).toContain('sip native on udp:0.0.0.0:5060, tcp:0.0.0.0:5060');
    expect(r.summary).toContain('1 trunk(s)');
    expect(r.summary).toContain('redis embedded');
    expect(r.summary).not.toMatch(/\n/);
  });

  it('applies the environment as serve would, and never prints the Redis URL (it may hold a password)', () => {
    const file = join(repoRoot, 'config/ringproof.example.yaml');
    const r = checkConfigFile(file, { REDIS_URL: 'redis://:hunter2@127.0.0.1:6379', RINGPROOF_ROLE: 'edge' });
    expect(r).toMatchObject({ ok: true });
    if (!r.ok) return;
    expect(r.summary).toContain('role edge');
    expect(r.summary).toContain('redis redis');
    expect(r.summary).not.toContain('hunter2');
  });

  it('reports the one-line error and its code for a bad file instead of throwing', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'trunks:\n  - name: a\n    sources: [127.0.0.1]\n    defaultCountry: US\n    rejectCode: 480\n');
    expect(checkConfigFile(file, {})).toEqual({
      ok: false,
      code: 'RP_CONFIG_INVALID',
      error: `trunks[0].rejectCode: must be 486 or 603, got 480 (${file} line 5)`,
    });
  });

  it('reports an unreadable file', () => {
    const r = checkConfigFile(join(dir, 'nope.yaml'), {});
    expect(r).toMatchObject({ ok: false, code: 'RP_CONFIG_UNREADABLE' });
  });
});

describe('hashApiKey', () => {
  it('produces the sha256:<hex> form the config accepts', () => {
    const token = 'rp_test_0123456789';
    const hash = hashApiKey(token);
    expect(hash).toBe(`sha256:${createHash('sha256').update(token).digest('hex')}`);
    expect(hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    const c = loadConfig({ env: { RINGPROOF_API_KEYS: `app:${hash}` } });
    expect(c.api.keys).toEqual([{ name: 'app', hash }]);
  });

  it('differs for different tokens', () => {
    expect(hashApiKey('a')).not.toBe(hashApiKey('b'));
  });
});
