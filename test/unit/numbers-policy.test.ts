import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/defaults.js';
import { loadConfig } from '../../src/config/load-config.js';
import { checkConfigFile } from '../../src/config/check-config.js';
import { ErrorCodes } from '../../src/errors/codes.js';
import { RingproofError } from '../../src/errors/ringproof-error.js';
import { DenyPrefixList, parseDenyPrefixes } from '../../src/numbers/deny-prefix-list.js';
import { NumberPolicy, type ReloadResult } from '../../src/numbers/number-policy.js';
import { SHIPPED_DENY_PREFIXES_FILE } from '../../src/numbers/number-policy-defaults.js';
import type { PhoneNumberInfo } from '../../src/numbers/number-types.js';
import { waitUntil } from '../helpers/verify-e2e.js';

const dir = mkdtempSync(join(tmpdir(), 'ringproof-numbers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function writeFile(text: string, ext = 'txt'): string {
  const file = join(dir, `f${n++}.${ext}`);
  writeFileSync(file, text);
  return file;
}

const HASH = `sha256:${'a'.repeat(64)}`;
const info = (country: string, type: PhoneNumberInfo['type'], cc = '1'): PhoneNumberInfo =>
  ({ country, countryCallingCode: cc, type, valid: type !== 'unknown', source: 'ranges' });

function parseError(text: string): string {
  try {
    parseDenyPrefixes(text, 'list.txt');
  } catch (err) {
    expect(err).toBeInstanceOf(RingproofError);
    expect((err as RingproofError).code).toBe(ErrorCodes.CONFIG_INVALID);
    return (err as Error).message;
  }
  throw new Error('accepted a broken list');
}

describe('deny-prefix list', () => {
  it('parses prefixes with reasons, skipping comments and blank lines', () => {
    const list = parseDenyPrefixes('# IRSF\n\n+882  shared code: IRSF   # trailing comment\r\n+44909 UK premium\n', 'list.txt');
    expect(list).toEqual([{ prefix: '+882', reason: 'shared code: IRSF' }, { prefix: '+44909', reason: 'UK premium' }]);
  });

  it.each([
    ['882 no plus', 'list.txt line 2: "882" is not a number prefix'],
    ['+88a letters', 'list.txt line 2: "+88a" is not a number prefix'],
    ['+0 zero', 'list.txt line 2: "+0" is not a number prefix'],
    ['+882', 'list.txt line 2: +882 needs a reason after it'],
    [`+882 ${'x'.repeat(201)}`, 'list.txt line 2: the reason for +882 is longer than 200 characters'],
  ])('refuses the broken line %j, naming the file and line', (line, message) => {
    expect(parseError(`# ok\n${line}\n`)).toContain(message);
  });

  it('refuses a prefix listed twice, naming both lines', () => {
    expect(parseError('+882 a\n+883 b\n+882 c\n')).toBe('list.txt line 3: +882 is already listed on line 1');
  });

  it('the most specific prefix wins, and numbers outside every prefix pass', () => {
    const list = new DenyPrefixList(parseDenyPrefixes('+44 all UK\n+44909 UK premium\n+1 NANP\n', 't'));
    expect(list.match('+449098790000')?.reason).toBe('UK premium');
    expect(list.match('+447400123456')?.reason).toBe('all UK');
    expect(list.match('+33612345678')).toBeUndefined();
    expect(list.match('+4')).toBeUndefined();
  });

  it('the shipped list parses and holds the classic IRSF ranges', () => {
    const list = new DenyPrefixList(parseDenyPrefixes(readFileSync(SHIPPED_DENY_PREFIXES_FILE, 'utf8'), 'shipped'));
    for (const number of ['+88212345678', '+88312345678', '+870301234567', '+881612345678', '+979123456789', '+447012345678']) {
      expect(list.match(number), number).toBeDefined();
    }
    expect(list.match('+12025550123')).toBeUndefined();
  });
});

describe('NumberPolicy', () => {
  it('a refused prefix is named with its reason, before any country or type rule', () => {
    const numbers = { ...defaultConfig().numbers, denyPrefixesFile: writeFile('+1202555 test range of this suite\n') };
    const p = new NumberPolicy({ numbers, keys: [] });
    expect(p.evaluate('+12025550123', info('US', 'fixed_line_or_mobile'), 'inbound_call')).toEqual({
      allowed: false, rule: 'prefix_denied', prefix: '+1202555', reason: 'test range of this suite',
      message: 'numbers starting +1202555 are refused: test range of this suite',
    });
    expect(p.evaluate('+12025560123', info('US', 'fixed_line_or_mobile'), 'inbound_call')).toEqual({ allowed: true, flags: [] });
  });

  it('country deny- and allow-lists, per method', () => {
    const numbers = defaultConfig().numbers;
    numbers.policy.inbound_call.denyCountries = ['CU'];
    numbers.policy.flash_call.allowCountries = ['GB', 'DE'];
    const p = new NumberPolicy({ numbers, keys: [] });
    expect(p.evaluate('+5351234567', info('CU', 'mobile', '53'), 'inbound_call')).toMatchObject({ allowed: false, rule: 'country_denied' });
    expect(p.evaluate('+5351234567', info('CU', 'mobile', '53'), 'flash_call')).toMatchObject({ allowed: false, rule: 'country_not_allowed' });
    expect(p.evaluate('+447400123456', info('GB', 'mobile', '44'), 'flash_call')).toEqual({ allowed: true, flags: [] });
    expect(p.evaluate('+12025550123', info('US', 'fixed_line_or_mobile'), 'inbound_call')).toEqual({ allowed: true, flags: [] });
  });

  it('VoIP: allow, flag or refuse', () => {
    const numbers = defaultConfig().numbers;
    numbers.policy.flash_call.voip = 'allow';
    const p = new NumberPolicy({ numbers, keys: [] });
    const voip = info('GB', 'voip', '44');
    expect(p.evaluate('+445612345678', voip, 'inbound_call')).toEqual({ allowed: true, flags: ['voip'] });
    expect(p.evaluate('+445612345678', voip, 'flash_call')).toEqual({ allowed: true, flags: [] });
    numbers.policy.flash_call.voip = 'refuse';
    expect(new NumberPolicy({ numbers, keys: [] }).evaluate('+445612345678', voip, 'flash_call')).toMatchObject({ allowed: false, rule: 'voip_refused' });
  });

  it('per-key overrides replace the fields they set, for the methods they name, and only for that key', () => {
    const p = new NumberPolicy({
      numbers: defaultConfig().numbers,
      keys: [
        { name: 'strict', hash: HASH, policy: { inbound_call: { allowCountries: ['GB'], voip: 'refuse' } } },
        { name: 'plain', hash: HASH },
      ],
    });
    const us = info('US', 'fixed_line_or_mobile');
    expect(p.evaluate('+12025550123', us, 'inbound_call', 'strict')).toMatchObject({ allowed: false, rule: 'country_not_allowed' });
    expect(p.evaluate('+12025550123', us, 'inbound_call', 'plain')).toEqual({ allowed: true, flags: [] });
    expect(p.evaluate('+12025550123', us, 'inbound_call')).toEqual({ allowed: true, flags: [] });
    expect(p.evaluate('+445612345678', info('GB', 'voip', '44'), 'inbound_call', 'strict')).toMatchObject({ allowed: false, rule: 'voip_refused' });
    // Fields the key does not set keep the global value; the other method is untouched.
    expect(p.methodPolicy('inbound_call', 'strict').allowedTypes).toEqual(defaultConfig().numbers.policy.inbound_call.allowedTypes);
    expect(p.methodPolicy('flash_call', 'strict')).toEqual(defaultConfig().numbers.policy.flash_call);
  });

  it('reload() swaps in an edited list, and keeps the old one when the edit is broken', () => {
    const file = writeFile('+882 IRSF\n');
    const results: ReloadResult[] = [];
    const p = new NumberPolicy({ numbers: { ...defaultConfig().numbers, denyPrefixesFile: file }, keys: [], onReload: (r) => results.push(r) });
    const us = info('US', 'fixed_line_or_mobile');
    expect(p.evaluate('+12025550123', us, 'inbound_call').allowed).toBe(true);
    writeFileSync(file, '+882 IRSF\n+1202 no DC numbers today\n');
    expect(p.reload()).toEqual({ ok: true, entries: 2 });
    expect(p.evaluate('+12025550123', us, 'inbound_call')).toMatchObject({ allowed: false, rule: 'prefix_denied' });
    writeFileSync(file, '+882 IRSF\n+1202\n');
    const broken = p.reload();
    expect(broken).toMatchObject({ ok: false, entries: 2 });
    expect(broken.error).toContain('line 2: +1202 needs a reason');
    expect(p.evaluate('+12025550123', us, 'inbound_call')).toMatchObject({ allowed: false, rule: 'prefix_denied' });
    expect(results.map((r) => r.ok)).toEqual([true, false]);
  });

  it('watch() reloads when the file is replaced (as editors and config management do)', async () => {
    const file = writeFile('+882 IRSF\n');
    let reloads = 0;
    const p = new NumberPolicy({ numbers: { ...defaultConfig().numbers, denyPrefixesFile: file }, keys: [], onReload: () => { reloads++; } });
    p.watch(50);
    try {
      const next = writeFile('+882 IRSF\n+883 IRSF too\n+979 premium\n');
      renameSync(next, file);
      await waitUntil('the replaced list in force', () => (p.denyPrefixCount === 3 ? true : undefined), 10_000, 20);
      expect(reloads).toBeGreaterThanOrEqual(1);
    } finally {
      p.close();
    }
  });

  it('a missing or broken file stops construction with an error naming it', () => {
    const missing = join(dir, 'missing.txt');
    expect(() => new NumberPolicy({ numbers: { ...defaultConfig().numbers, denyPrefixesFile: missing }, keys: [] }))
      .toThrow(`numbers.denyPrefixesFile: cannot read ${missing} (ENOENT)`);
    const broken = writeFile('+882\n');
    expect(() => new NumberPolicy({ numbers: { ...defaultConfig().numbers, denyPrefixesFile: broken }, keys: [] }))
      .toThrow(`${broken} line 1: +882 needs a reason`);
  });
});

describe('numbers config', () => {
  function configError(yaml: string): string {
    try {
      loadConfig({ file: writeFile(yaml, 'yaml'), env: {} });
    } catch (err) {
      expect((err as RingproofError).code).toBe(ErrorCodes.CONFIG_INVALID);
      return (err as Error).message;
    }
    throw new Error('accepted a bad config');
  }

  it('no numbers section gives the documented defaults and the shipped list', () => {
    const c = loadConfig({ env: {} });
    expect(c.numbers.policy).toEqual({
      inbound_call: { allowedTypes: ['mobile', 'fixed_line', 'fixed_line_or_mobile', 'toll_free', 'personal'], voip: 'flag', allowCountries: [], denyCountries: [] },
      flash_call: { allowedTypes: ['mobile', 'fixed_line_or_mobile'], voip: 'refuse', allowCountries: [], denyCountries: [] },
    });
    expect(c.numbers.denyPrefixesFile).toBeUndefined();
  });

  it('a method policy sets only the fields it names; countries are upper-cased', () => {
    const c = loadConfig({ file: writeFile('numbers:\n  policy:\n    flash_call:\n      allowCountries: [gb, de]\n', 'yaml'), env: {} });
    expect(c.numbers.policy.flash_call).toEqual({ allowedTypes: ['mobile', 'fixed_line_or_mobile'], voip: 'refuse', allowCountries: ['GB', 'DE'], denyCountries: [] });
    expect(c.numbers.policy.inbound_call).toEqual(defaultConfig().numbers.policy.inbound_call);
  });

  it('RINGPROOF_DENY_PREFIXES_FILE sets the list', () => {
    expect(loadConfig({ env: { RINGPROOF_DENY_PREFIXES_FILE: '/etc/ringproof/irsf.txt' } }).numbers.denyPrefixesFile).toBe('/etc/ringproof/irsf.txt');
  });

  it('api.keys[].policy is read per method', () => {
    const c = loadConfig({ file: writeFile(`api:\n  keys:\n    - name: a\n      hash: "${HASH}"\n      policy:\n        inbound_call: { voip: refuse, denyCountries: [NG] }\n`, 'yaml'), env: {} });
    expect(c.api.keys[0]?.policy).toEqual({ inbound_call: { voip: 'refuse', denyCountries: ['NG'] } });
  });

  it.each([
    ['numbers:\n  policy:\n    sms: {}\n', 'numbers.policy.sms: unknown key'],
    ['numbers:\n  policy:\n    inbound_call:\n      allowedTypes: [mobile, satellite]\n', 'numbers.policy.inbound_call.allowedTypes[1]: must be one of'],
    ['numbers:\n  policy:\n    inbound_call:\n      allowedTypes: [voip]\n', 'numbers.policy.inbound_call.allowedTypes[0]: VoIP is set by the sibling key "voip"'],
    ['numbers:\n  policy:\n    flash_call:\n      voip: maybe\n', 'numbers.policy.flash_call.voip: must be one of "allow", "flag", "refuse"'],
    ['numbers:\n  policy:\n    flash_call:\n      denyCountries: [XX]\n', 'numbers.policy.flash_call.denyCountries[0]: must be an ISO 3166-1 alpha-2 region'],
    ['numbers:\n  denyPrefixesFile: "  "\n', 'numbers.denyPrefixesFile: must not be empty'],
    [`api:\n  keys:\n    - name: a\n      hash: "${HASH}"\n      policy:\n        inbound_call: { voip: nope }\n`, 'api.keys[0].policy.inbound_call.voip: must be one of'],
  ])('refuses %j naming the key', (yaml, message) => {
    expect(configError(yaml)).toContain(message);
  });

  it('config check reads the deny-prefix file too', () => {
    const broken = writeFile('+882 ok\n+883\n');
    const r = checkConfigFile(writeFile(`numbers:\n  denyPrefixesFile: ${broken}\n`, 'yaml'), {});
    expect(r).toEqual({ ok: false, code: ErrorCodes.CONFIG_INVALID, error: `${broken} line 2: +883 needs a reason after it (it is given in refusals)` });
    expect(checkConfigFile(writeFile('numbers:\n  denyPrefixesFile:\n', 'yaml'), {}).ok).toBe(true);
  });
});
