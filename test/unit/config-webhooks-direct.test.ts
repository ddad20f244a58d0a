import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { RingproofError } from '../../src/errors/ringproof-error.js';

const dir = mkdtempSync(join(tmpdir(), 'ringproof-config-direct-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function writeYaml(text: string): string {
  const file = join(dir, `c${n++}.yaml`);
  writeFileSync(file, text);
  return file;
}

function errorOf(run: () => unknown): RingproofError {
  try {
    run();
  } catch (err) {
    return err as RingproofError;
  }
  throw new Error('expected a config error');
}

describe('webhooks.directFirstAttempt', () => {
  it('is on by default', () => {
    expect(loadConfig({ env: {} }).webhooks.directFirstAttempt).toBe(true);
  });

  it('reads a YAML boolean from the file', () => {
    expect(loadConfig({ file: writeYaml('webhooks:\n  directFirstAttempt: false\n'), env: {} }).webhooks.directFirstAttempt).toBe(false);
  });

  it('reads true/false from RINGPROOF_WEBHOOK_DIRECT_FIRST_ATTEMPT, which wins over the file', () => {
    const file = writeYaml('webhooks:\n  directFirstAttempt: true\n');
    expect(loadConfig({ file, env: { RINGPROOF_WEBHOOK_DIRECT_FIRST_ATTEMPT: 'FALSE' } }).webhooks.directFirstAttempt).toBe(false);
    expect(loadConfig({ env: { RINGPROOF_WEBHOOK_DIRECT_FIRST_ATTEMPT: 'true' } }).webhooks.directFirstAttempt).toBe(true);
  });

  it('rejects anything else, naming the key and where it came from', () => {
    const fromFile = errorOf(() => loadConfig({ file: writeYaml('webhooks:\n  directFirstAttempt: 1\n'), env: {} }));
    expect(fromFile).toBeInstanceOf(RingproofError);
    expect(fromFile.message).toContain('webhooks.directFirstAttempt: must be true or false, got 1');
    const fromEnv = errorOf(() => loadConfig({ env: { RINGPROOF_WEBHOOK_DIRECT_FIRST_ATTEMPT: 'maybe' } }));
    expect(fromEnv.message).toContain('webhooks.directFirstAttempt: must be true or false, got "maybe"');
    expect(fromEnv.message).toContain('env RINGPROOF_WEBHOOK_DIRECT_FIRST_ATTEMPT');
  });
});
