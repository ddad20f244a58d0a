import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../../dist/command-line/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ringproof-numbers-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The built CLI, as an operator runs it (npm test builds dist/ first). */
function ringproof(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH ?? '' }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out: stdout, err: stderr });
    });
  });
}

describe('ringproof numbers classify', () => {
  it('prints each number\'s classification and what each method\'s policy does', async () => {
    const r = await ringproof(['numbers', 'classify', '+449098790000', '+445612345678', '+882 16 1234 5678']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out.split('\n')).toEqual([
      '+449098790000  country GB (+44)  type premium_rate  valid',
      '  inbound_call: refused by type_not_allowed: premium_rate numbers are not accepted for inbound_call',
      '  flash_call:   refused by type_not_allowed: premium_rate numbers are not accepted for flash_call',
      '+445612345678  country GB (+44)  type voip  valid',
      '  inbound_call: allowed (flagged: voip)',
      '  flash_call:   refused by voip_refused: VoIP numbers are refused for flash_call',
      '+8821612345678  country 001 (+882)  type voip  valid',
      '  inbound_call: refused by prefix_denied: numbers starting +882 are refused: International Networks shared code (ITU-T E.164): classic IRSF range',
      '  flash_call:   refused by prefix_denied: numbers starting +882 are refused: International Networks shared code (ITU-T E.164): classic IRSF range',
      '',
    ]);
  });

  it('uses the configuration\'s policy, deny-prefix file and a key\'s overrides; --json for scripts', async () => {
    const deny = join(dir, 'deny.txt');
    writeFileSync(deny, '+33 not our market\n');
    const config = join(dir, 'c.yaml');
    writeFileSync(config, [
      'numbers:',
      `  denyPrefixesFile: ${deny}`,
      'api:',
      '  keys:',
      `    - { name: gb-only, hash: "sha256:${'b'.repeat(64)}", policy: { flash_call: { allowCountries: [GB] } } }`,
      '',
    ].join('\n'));
    const r = await ringproof(['numbers', 'classify', '-c', config, '--key', 'gb-only', '--json', '--country', 'US', '(202) 555-0123', '+33612345678']);
    expect(r.code).toBe(0);
    const [us, fr] = r.out.trim().split('\n').map((l) => JSON.parse(l) as { e164: string; info: unknown; verdicts: Record<string, unknown> });
    expect(us).toEqual({
      e164: '+12025550123',
      info: { country: 'US', countryCallingCode: '1', type: 'fixed_line_or_mobile', valid: true, source: 'ranges' },
      verdicts: {
        inbound_call: { allowed: true, flags: [] },
        flash_call: { allowed: false, rule: 'country_not_allowed', message: 'US is not among the countries accepted for flash_call' },
      },
    });
    expect(fr?.verdicts.inbound_call).toMatchObject({ allowed: false, rule: 'prefix_denied', prefix: '+33', reason: 'not our market' });
  });

  it('exits 1 naming a number it cannot read, and still classifies the others', async () => {
    const r = await ringproof(['numbers', 'classify', 'abc', '+12025550123']);
    expect(r.code).toBe(1);
    expect(r.err).toBe('abc: phoneNumber must be in international form ("+" and country code), or give --country for a national form\n');
    expect(r.out).toContain('+12025550123  country US (+1)  type fixed_line_or_mobile  valid');
  });

  it('refuses an unknown --key', async () => {
    const r = await ringproof(['numbers', 'classify', '--key', 'nobody', '+12025550123']);
    expect(r.code).toBe(1);
    expect(r.err).toBe('ringproof: --key: no API key named "nobody" in the configuration\n');
  });
});
