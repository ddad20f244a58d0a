import { describe, expect, it } from 'vitest';
import { extractDid } from '../../src/edge/did-extract.js';
import { createPhoneNormalizer } from '../../src/edge/phone-normalize.js';

const US = createPhoneNormalizer('US');
const GB = createPhoneNormalizer('GB');
const to = (value: string | undefined) => ({ header: (name: string) => (name === 'to' ? value : undefined) });

describe('extractDid', () => {
  it('reads the Request-URI user part', () => {
    expect(extractDid('sip:+12025550123@edge.example;user=phone', to('<sip:+15550000000@x>'), US)).toEqual({ did: '+12025550123', raw: '+12025550123' });
    expect(extractDid('sip:2025550123@10.0.0.1:5060', to(undefined), US)).toEqual({ did: '+12025550123', raw: '2025550123' });
    expect(extractDid('sip:02012345678@edge.example', to(undefined), GB).did).toBe('+442012345678');
    expect(extractDid('sip:%2B442012345678@edge.example', to(undefined), GB).did).toBe('+442012345678');
  });

  it('reads tel: Request-URIs', () => {
    expect(extractDid('tel:+44-20-1234-5678', to(undefined), US).did).toBe('+442012345678');
    expect(extractDid('tel:5550123;phone-context=+1-202', to(undefined), GB).did).toBe('+12025550123');
  });

  it('falls back to To when the Request-URI holds no number', () => {
    expect(extractDid('sip:edge.example', to('"Sales" <sip:+12025550123@edge.example>'), US)).toEqual({ did: '+12025550123', raw: '+12025550123' });
    expect(extractDid('sip:ringproof@edge.example', to('<tel:(202)555-0123>;tag=x'), US).did).toBe('+12025550123');
  });

  it('returns null with the raw user part when neither holds a number', () => {
    expect(extractDid('sip:ringproof@edge.example', to('<sip:sales@edge.example>'), US)).toEqual({ did: null, raw: 'ringproof' });
    expect(extractDid('sip:edge.example', to('<sip:sales@edge.example>'), US)).toEqual({ did: null, raw: 'sales' });
    expect(extractDid('garbage', to('garbage'), US)).toEqual({ did: null, raw: null });
  });
});
