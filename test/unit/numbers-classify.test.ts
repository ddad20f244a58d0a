import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/defaults.js';
import { loadNumberClassifier, type NumberClassifier } from '../../src/numbers/number-classifier.js';
import { NumberPolicy, type PolicyVerdict } from '../../src/numbers/number-policy.js';
import type { NumberType, PolicyRule, VerificationMethod } from '../../src/numbers/number-types.js';

/** Example numbers of each type, from libphonenumber's own metadata (source and commit in the file). */
const EXAMPLES = JSON.parse(readFileSync(new URL('../fixtures/phone-number-examples.json', import.meta.url), 'utf8')) as {
  source: string;
  regions: Record<string, Partial<Record<NumberType, string>>>;
};

/**
 * The documented defaults (README "Number policy"), written out here rather than read from the code,
 * so a change of defaults has to change this table too.
 */
const ALLOWED: Record<VerificationMethod, readonly NumberType[]> = {
  inbound_call: ['mobile', 'fixed_line', 'fixed_line_or_mobile', 'toll_free', 'personal'],
  flash_call: ['mobile', 'fixed_line_or_mobile'],
};
/** The shipped config/number-deny-prefixes.txt (uncommented entries). */
const SHIPPED_DENIED = ['+870', '+881', '+882', '+883', '+979', '+4470'];

function expectedVerdict(method: VerificationMethod, e164: string, type: NumberType): { allowed: boolean; rule?: PolicyRule; flags?: string[] } {
  if (SHIPPED_DENIED.some((p) => e164.startsWith(p))) return { allowed: false, rule: 'prefix_denied' };
  if (type === 'unknown') return { allowed: false, rule: 'invalid_number' };
  if (type === 'voip') return method === 'inbound_call' ? { allowed: true, flags: ['voip'] } : { allowed: false, rule: 'voip_refused' };
  return ALLOWED[method].includes(type) ? { allowed: true, flags: [] } : { allowed: false, rule: 'type_not_allowed' };
}

function summary(v: PolicyVerdict): { allowed: boolean; rule?: PolicyRule; flags?: string[] } {
  return v.allowed ? { allowed: true, flags: v.flags } : { allowed: false, rule: v.rule };
}

/** NANP regions give one example for fixed line and mobile: libphonenumber types it fixed-line-or-mobile. */
function expectedType(examples: Partial<Record<NumberType, string>>, type: NumberType): NumberType {
  return (type === 'mobile' || type === 'fixed_line') && examples.mobile === examples.fixed_line ? 'fixed_line_or_mobile' : type;
}

const cases = Object.entries(EXAMPLES.regions).flatMap(([region, examples]) =>
  Object.entries(examples)
    .filter(([type]) => !(type === 'mobile' && examples.mobile === examples.fixed_line))
    .map(([type, e164]) => ({ region, e164: e164 as string, type: expectedType(examples, type as NumberType) })));

let classifier: NumberClassifier;
let policy: NumberPolicy;

beforeAll(async () => {
  classifier = await loadNumberClassifier();
  policy = new NumberPolicy({ numbers: defaultConfig().numbers, keys: [] });
});

describe('classification with libphonenumber full metadata', () => {
  it('covers at least ten countries and every type the issue names', () => {
    const countries = Object.keys(EXAMPLES.regions).filter((r) => !r.startsWith('+'));
    expect(countries.length).toBeGreaterThanOrEqual(10);
    const types = new Set(cases.map((c) => c.type));
    for (const t of ['mobile', 'fixed_line', 'fixed_line_or_mobile', 'toll_free', 'premium_rate', 'shared_cost', 'voip', 'personal', 'pager', 'uan', 'voicemail'] as const) {
      expect(types, t).toContain(t);
    }
  });

  it.each(cases)('$region $type example $e164 is classified as its type, valid, in its region', ({ region, e164, type }) => {
    const info = classifier.classify(e164);
    expect(info).toMatchObject({
      type,
      valid: true,
      country: region.startsWith('+') ? '001' : region,
      countryCallingCode: region.startsWith('+') ? region.slice(1) : expect.any(String),
      source: 'ranges',
    });
    expect(e164.startsWith(`+${info.countryCallingCode}`)).toBe(true);
  });

  it.each(cases)('$region $type example $e164 is allowed or refused as the documented defaults say', ({ e164, type }) => {
    const info = classifier.classify(e164);
    for (const method of ['inbound_call', 'flash_call'] as const) {
      expect(summary(policy.evaluate(e164, info, method)), method).toEqual(expectedVerdict(method, e164, type));
    }
  });

  it('numbers that are possible but not allocated are unknown, not valid, and refused as invalid_number', () => {
    // 555 is no US area code; UK 06 is an unused range; German 010 is the carrier-selection prefix.
    for (const e164 of ['+15551234567', '+446123456789', '+4910123456']) {
      const info = classifier.classify(e164);
      expect(info, e164).toMatchObject({ type: 'unknown', valid: false });
      for (const method of ['inbound_call', 'flash_call'] as const) {
        expect(summary(policy.evaluate(e164, info, method))).toEqual({ allowed: false, rule: 'invalid_number' });
      }
    }
    expect(classifier.classify('+15551234567').country).toBe('ZZ');
    expect(classifier.classify('+4910123456').country).toBe('DE');
  });

  it('the UK premium-rate number from the issue is refused for both methods', () => {
    const info = classifier.classify('+449098790000');
    expect(info).toMatchObject({ country: 'GB', type: 'premium_rate', valid: true });
    for (const method of ['inbound_call', 'flash_call'] as const) {
      const v = policy.evaluate('+449098790000', info, method);
      expect(v).toMatchObject({ allowed: false, rule: 'type_not_allowed', message: `premium_rate numbers are not accepted for ${method}` });
    }
  });

  it('text that is no number at all comes back unknown instead of throwing', () => {
    expect(classifier.classify('+')).toMatchObject({ type: 'unknown', valid: false, country: 'ZZ' });
    expect(classifier.classify('not a number')).toMatchObject({ type: 'unknown', valid: false });
  });

  it('the quick-start number is accepted by the default inbound policy', () => {
    const info = classifier.classify('+12025550123');
    expect(info).toEqual({ country: 'US', countryCallingCode: '1', type: 'fixed_line_or_mobile', valid: true, source: 'ranges' });
    expect(policy.evaluate('+12025550123', info, 'inbound_call')).toEqual({ allowed: true, flags: [] });
  });
});
