import { describe, expect, it } from 'vitest';
import type { CliSource } from '../../src/config/config-types.js';
import { extractCli, privacyWithholds, type HeaderSource } from '../../src/edge/cli-extract.js';
import { createPhoneNormalizer } from '../../src/edge/phone-normalize.js';

/** Splits one header line at commas outside quotes and <>, as the engine does. */
function splitLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let angle = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted && c === '\\') { cur += c + (line[++i] ?? ''); continue; }
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === '<') angle = true;
    else if (!quoted && c === '>') angle = false;
    if (c === ',' && !quoted && !angle) { out.push(cur.trim()); cur = ''; continue; }
    cur += c;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

/** Header lines as data: [lowercase name, raw line value]. */
function headers(lines: [string, string][]): HeaderSource {
  return {
    headerValues: (name) => lines.filter(([n]) => n === name).flatMap(([, v]) => splitLine(v)),
    header: (name) => lines.find(([n]) => n === name)?.[1],
  };
}

const US = createPhoneNormalizer('US');
const GB = createPhoneNormalizer('GB');
const DE = createPhoneNormalizer('DE');
const DEFAULT: CliSource[] = ['pai', 'rpid', 'from'];

describe('extractCli', () => {
  it('reads PAI first (sip URI, user=phone)', () => {
    const r = extractCli(headers([
      ['from', '"Bob" <sip:+15550001111@carrier.example>;tag=1'],
      ['p-asserted-identity', '<sip:+12025550123@carrier.example;user=phone>'],
    ]), DEFAULT, US);
    expect(r).toEqual({ cli: '+12025550123', origin: 'pai', raw: '+12025550123', verstat: null });
  });

  it('reads a tel: PAI with visual separators', () => {
    const r = extractCli(headers([['p-asserted-identity', '<tel:+1-202-555-0123>']]), DEFAULT, US);
    expect(r.cli).toBe('+12025550123');
    expect(r.raw).toBe('+1-202-555-0123');
  });

  it('prefers the tel: value among several PAI lines', () => {
    const r = extractCli(headers([
      ['p-asserted-identity', '"Alice" <sip:alice@carrier.example>'],
      ['p-asserted-identity', '<sip:+15550009999@carrier.example;user=phone>'],
      ['p-asserted-identity', '<tel:+12025550123>'],
    ]), DEFAULT, US);
    expect(r.cli).toBe('+12025550123');
    expect(r.origin).toBe('pai');
  });

  it('prefers a numeric sip value over a non-numeric one in a single comma-separated PAI line', () => {
    const r = extractCli(headers([
      ['p-asserted-identity', '"Alice, Smith" <sip:alice@carrier.example>, <sip:+447700900123@carrier.example;user=phone>'],
    ]), DEFAULT, GB);
    expect(r.cli).toBe('+447700900123');
  });

  it('falls back to RPID, honouring party and privacy', () => {
    const r = extractCli(headers([
      ['from', '<sip:alice@example.com>;tag=1'],
      ['remote-party-id', '<sip:+15550000000@gw.example>;party=called, "J" <sip:+12025550123@gw.example;user=phone>;party=calling;screen=no'],
    ]), DEFAULT, US);
    expect(r).toMatchObject({ cli: '+12025550123', origin: 'rpid' });

    const hidden = extractCli(headers([
      ['from', '<sip:+15550001111@example.com>;tag=1'],
      ['remote-party-id', '<sip:+12025550123@gw.example>;party=calling;privacy=full'],
    ]), DEFAULT, US);
    expect(hidden).toMatchObject({ cli: null, origin: 'withheld', raw: null });

    const nameOnly = extractCli(headers([
      ['remote-party-id', '"J" <sip:+12025550123@gw.example>;privacy=name'],
    ]), DEFAULT, US);
    expect(nameOnly.cli).toBe('+12025550123');
  });

  it('falls back to From, with national forms per trunk country', () => {
    const cases: [string, typeof US, string][] = [
      ['<sip:(202)%20555-0123@gw.example>', US, '+12025550123'],
      ['<sip:2025550123@gw.example>', US, '+12025550123'],
      ['<sip:12025550123@gw.example>', US, '+12025550123'],
      ['"x" <sip:02012345678@gw.example>', GB, '+442012345678'],
      ['<sip:0012025550123@gw.example>', GB, '+12025550123'],
      ['<sip:030123456@gw.example>', DE, '+4930123456'],
      ['<sip:4930123456@gw.example>', DE, '+4930123456'],
      ['<sip:%2B4930123456@gw.example>', DE, '+4930123456'],
      ['<tel:07700900123>', GB, '+447700900123'],
    ];
    for (const [from, n, expected] of cases) {
      const r = extractCli(headers([['from', from + ';tag=1']]), DEFAULT, n);
      expect(r.cli, from).toBe(expected);
      expect(r.origin, from).toBe('from');
    }
  });

  it('follows the trunk order', () => {
    const h = headers([
      ['from', '<sip:+15550001111@gw.example>;tag=1'],
      ['p-asserted-identity', '<sip:+12025550123@gw.example>'],
    ]);
    expect(extractCli(h, ['from', 'pai'], US)).toMatchObject({ cli: '+15550001111', origin: 'from' });
    expect(extractCli(h, ['pai'], US)).toMatchObject({ cli: '+12025550123', origin: 'pai' });
    expect(extractCli(headers([['from', '<sip:+15550001111@gw.example>']]), ['pai', 'rpid'], US)).toMatchObject({ cli: null, origin: 'pai', raw: null });
  });

  it('withholds on Privacy: id and Privacy: user, not on header', () => {
    const base: [string, string][] = [
      ['from', '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=1'],
      ['p-asserted-identity', '<sip:+12025550123@carrier.example>'],
    ];
    expect(extractCli(headers([...base, ['privacy', 'id']]), DEFAULT, US)).toMatchObject({ cli: null, origin: 'withheld', raw: null });
    expect(extractCli(headers([...base, ['privacy', 'user;critical']]), DEFAULT, US).origin).toBe('withheld');
    expect(extractCli(headers([...base, ['privacy', 'header']]), DEFAULT, US)).toMatchObject({ cli: '+12025550123', origin: 'pai' });
    expect(extractCli(headers([...base, ['privacy', 'none']]), DEFAULT, US).origin).toBe('pai');
    expect(privacyWithholds(['header; id'])).toBe(true);
    expect(privacyWithholds(['ID'])).toBe(true);
    expect(privacyWithholds(['identity'])).toBe(false);
  });

  it('withholds anonymous URIs', () => {
    for (const from of [
      'Anonymous <sip:anonymous@anonymous.invalid>;tag=1',
      '<sip:restricted@gw.example>;tag=1',
      '<sip:Unavailable@gw.example>;tag=1',
      '<sip:withheld@gw.example>;tag=1',
      '<sip:+12025550123@anonymous.invalid>;tag=1',
      '"Anonymous" <sip:c8f3a9@gw.example>;tag=1',
    ]) {
      expect(extractCli(headers([['from', from]]), DEFAULT, US), from).toMatchObject({ cli: null, origin: 'withheld', raw: null });
    }
    // An anonymous PAI decides before a numeric From.
    const r = extractCli(headers([
      ['from', '<sip:+15550001111@gw.example>;tag=1'],
      ['p-asserted-identity', '<sip:anonymous@anonymous.invalid>'],
    ]), DEFAULT, US);
    expect(r.origin).toBe('withheld');
  });

  it('reports a non-number CLI with its origin and raw user part', () => {
    const r = extractCli(headers([['from', '"Alice" <sip:alice@example.com>;tag=1']]), DEFAULT, US);
    expect(r).toEqual({ cli: null, origin: 'from', raw: 'alice', verstat: null });
    const short = extractCli(headers([['from', '<sip:123@example.com>;tag=1']]), DEFAULT, US);
    expect(short).toMatchObject({ cli: null, origin: 'from', raw: '123' });
  });

  it('reads verstat as a URI, user-part or header parameter', () => {
    const uriParam = extractCli(headers([['p-asserted-identity', '<sip:+12025550123@c.example;user=phone;verstat=TN-Validation-Passed>']]), DEFAULT, US);
    expect(uriParam.verstat).toBe('TN-Validation-Passed');
    const userParam = extractCli(headers([['p-asserted-identity', '<sip:+12025550123;verstat=tn-validation-failed@c.example;user=phone>']]), DEFAULT, US);
    expect(userParam.verstat).toBe('TN-Validation-Failed');
    const fromHeaderParam = extractCli(headers([['from', '<sip:+12025550123@c.example>;tag=1;verstat=No-TN-Validation']]), DEFAULT, US);
    expect(fromHeaderParam.verstat).toBe('No-TN-Validation');
    const telParam = extractCli(headers([['p-asserted-identity', '<tel:+12025550123;verstat=TN-Validation-Passed>']]), DEFAULT, US);
    expect(telParam.verstat).toBe('TN-Validation-Passed');
    // CLI from From, verstat on the PAI of the same call
    const mixed = extractCli(headers([
      ['from', '<sip:+12025550123@c.example>;tag=1'],
      ['p-asserted-identity', '<sip:anon-route@c.example;verstat=TN-Validation-Passed>'],
    ]), ['from', 'pai'], US);
    expect(mixed).toMatchObject({ cli: '+12025550123', verstat: 'TN-Validation-Passed' });
  });

  it('takes verstat from a PAI tel URI, then a PAI sip URI, then From, whatever header gave the CLI', () => {
    const telFirst = extractCli(headers([
      ['p-asserted-identity', '<sip:+15551234567@c.example;user=phone;verstat=TN-Validation-Failed>'],
      ['p-asserted-identity', '<tel:+15551234567;verstat=TN-Validation-Passed-B>'],
    ]), DEFAULT, US);
    expect(telFirst.verstat).toBe('TN-Validation-Passed-B');
    const paiOverFrom = extractCli(headers([
      ['from', '<sip:+15551234567@c.example;verstat=TN-Validation-Passed>;tag=1'],
      ['p-asserted-identity', '<sip:+15551234567@c.example;user=phone;verstat=TN-Validation-Failed>'],
    ]), ['from', 'pai'], US);
    expect(paiOverFrom).toMatchObject({ origin: 'from', verstat: 'TN-Validation-Failed' });
    const rpidLast = extractCli(headers([
      ['remote-party-id', '<sip:+15551234567@c.example;verstat=No-TN-Validation>;party=calling'],
      ['from', '<sip:+15551234567@c.example>;tag=1'],
    ]), ['rpid', 'from'], US);
    expect(rpidLast).toMatchObject({ origin: 'rpid', verstat: 'No-TN-Validation' });
  });

  it('survives garbage headers', () => {
    const r = extractCli(headers([
      ['p-asserted-identity', '<<<>>>'],
      ['remote-party-id', '"unterminated'],
      ['from', '\x00\xff garbage'],
      ['privacy', ''],
    ]), DEFAULT, US);
    expect(r).toEqual({ cli: null, origin: 'pai', raw: null, verstat: null });
  });
});
