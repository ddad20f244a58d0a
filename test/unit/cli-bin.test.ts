import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI_PATH, REPO_ROOT } from '../helpers/daemon-process.js';

const run = promisify(execFile);

// `npx ringproof …` in a checkout (the README's quick start) executes the package's bin file
// itself: tsc writes it without the execute bit, so the build sets it.
describe('the built ringproof bin', () => {
  it('is executable and runs by its own shebang', async () => {
    expect(statSync(CLI_PATH).mode & 0o111).toBe(0o111);
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const { stdout } = await run(CLI_PATH, ['--version'], { env: { ...process.env, PATH: `${join(process.execPath, '..')}:${process.env.PATH ?? ''}` } });
    expect(stdout.trim()).toBe(version);
  });
});
