import { parsePhoneNumberFromString } from 'libphonenumber-js/min';
import { describe, expect, it } from 'vitest';
import { isRingproofError } from '../../src/errors/ringproof-error.js';
import { createPhoneNormalizer, isFastPathE164 } from '../../src/edge/phone-normalize.js';

describe('createPhoneNormalizer', () => {
  const us = createPhoneNormalizer('US');
  const gb = createPhoneNormalizer('gb');
  const de = createPhoneNormalizer('DE');

  it('keeps E.164 input, including fictional +1 555 numbers (possible, not valid)', () => {
    expect(us.normalize('+12025550123')).toBe('+12025550123');
    expect(gb.normalize('+12025550123')).toBe('+12025550123');
    expect(us.normalize('+1-202-555-0123')).toBe('+12025550123');
  });

  it('reads national forms with the trunk country', () => {
    expect(us.normalize('(202) 555-0123')).toBe('+12025550123');
    expect(us.normalize('2025550123')).toBe('+12025550123');
    expect(us.normalize('12025550123')).toBe('+12025550123');
    expect(gb.normalize('02012345678')).toBe('+442012345678');
    expect(gb.normalize('0201234567')).toBe('+44201234567'); // a possible (not valid) GB length
    expect(de.normalize('030 1234567')).toBe('+49301234567');
    expect(de.normalize('017612345678')).toBe('+4917612345678');
  });

  it('reads international prefixes', () => {
    expect(gb.normalize('0012025550123')).toBe('+12025550123');
    expect(de.normalize('004930123456')).toBe('+4930123456');
    expect(us.normalize('011442012345678')).toBe('+442012345678');
    // "00" from a US trunk (not the NANP IDD) is still read as international.
    expect(us.normalize('00442012345678')).toBe('+442012345678');
  });

  it('adds a missing "+" before a country code when the national reading is impossible', () => {
    expect(gb.normalize('447700900123')).toBe('+447700900123');
    expect(de.normalize('4915112345678')).toBe('+4915112345678');
  });

  it('returns null for non-numbers and impossible numbers', () => {
    for (const bad of ['', 'anonymous', '12', '+999123456789', '+1555', '1-800-FLOWERS', '*21#', '1'.repeat(70), '+']) {
      expect(us.normalize(bad)).toBeNull();
    }
  });

  it('answers repeats from its cache with the same result', () => {
    const n = createPhoneNormalizer('GB', { cacheSize: 2 });
    for (let i = 0; i < 3; i++) {
      expect(n.normalize('02012345678')).toBe('+442012345678');
      expect(n.normalize('020 1234 5679')).toBe('+442012345679');
      expect(n.normalize('07700900123')).toBe('+447700900123');
      expect(n.normalize('123')).toBeNull();
    }
  });

  it('rejects an unknown country with CONFIG_INVALID', () => {
    try {
      createPhoneNormalizer('XX');
      expect.unreachable();
    } catch (err) {
      expect(isRingproofError(err) && err.code).toBe('RP_CONFIG_INVALID');
    }
  });
});

describe('isFastPathE164', () => {
  it('accepts common E.164 forms and refuses what it cannot be sure of', () => {
    expect(isFastPathE164('+12025550123')).toBe(true);
    expect(isFastPathE164('+442012345678')).toBe(true);
    expect(isFastPathE164('+4930123456')).toBe(true);
    expect(isFastPathE164('+4402012345678')).toBe(false); // GB national prefix after the code
    expect(isFastPathE164('+1555123456')).toBe(false); // too short for NANP
    expect(isFastPathE164('12025550123')).toBe(false);
    expect(isFastPathE164('+1555123456a')).toBe(false);
  });

  it('never disagrees with the library on what it accepts', () => {
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const prefixes = ['1', '44', '49', '33', '7', '39', '61', '86', '91', '55', '54', '52', '81', '800', '882', '262', '590', '599', '1242', '3'];
    let accepted = 0;
    for (let i = 0; i < 20000; i++) {
      const prefix = prefixes[Math.floor(rnd() * prefixes.length)]!;
      const len = 8 + Math.floor(rnd() * 8);
      let s = '+' + prefix;
      while (s.length - 1 < len) s += String(Math.floor(rnd() * 10));
      if (isFastPathE164(s)) {
        accepted++;
        const p = parsePhoneNumberFromString(s);
        expect(p?.number, s).toBe(s);
        expect(p?.isPossible(), s).toBe(true);
      }
    }
    // The fast path must actually take a good share of plain E.164 traffic.
    expect(accepted).toBeGreaterThan(2000);
  });

  it('gives the same answers with and without the fast path', () => {
    const fast = createPhoneNormalizer('US');
    const slow = createPhoneNormalizer('US', { fastPath: false });
    for (const s of ['+12025550123', '+442012345678', '+4402012345678', '+33612345678', '+79161234567', '+5491123456789', '+861012345678']) {
      expect(fast.normalize(s), s).toBe(slow.normalize(s));
    }
  });
});

describe('normalizeRepeated', () => {
  it('gives what normalize gives, the first time and from its cache', () => {
    const inputs = ['+15550100001', '5550100001', '+447700900123', '07700900123', '00447700900123', '447700900123', 'abc', '',
      '+1 (555) 010-0001', '+999', '1', '+4930123456', '+15550100001'];
    for (const country of ['US', 'GB', 'DE']) {
      const a = createPhoneNormalizer(country);
      const b = createPhoneNormalizer(country);
      for (let round = 0; round < 2; round++) {
        for (const x of inputs) expect(b.normalizeRepeated(x), `${country} ${x}`).toBe(a.normalize(x));
      }
    }
  });
});
