import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { DidExtractor, extractDid } from '../../src/edge/did-extract.js';
import { createPhoneNormalizer } from '../../src/edge/phone-normalize.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
setFlagsFromString('--no-expose-gc');

const to = (value: string | undefined) => ({ header: (name: string) => (name === 'to' ? value : undefined) });

describe('DidExtractor', () => {
  it('answers as extractDid, first time and repeated', () => {
    const cases: [string, string | undefined][] = [
      ['sip:+12025550123@edge.example;user=phone', '<sip:+15550000000@x>'],
      ['sip:2025550123@10.0.0.1:5060', undefined],
      ['tel:5550123;phone-context=+1-202', undefined],
      ['sip:edge.example', '"Sales" <sip:+12025550123@edge.example>'],
      ['sip:edge.example', '<sip:+12025550199@edge.example>'],
      ['sip:ringproof@edge.example', '<sip:sales@edge.example>'],
      ['garbage', 'garbage'],
    ];
    const dids = new DidExtractor(createPhoneNormalizer('US'));
    for (let round = 0; round < 2; round++) {
      for (const [ruri, toValue] of cases) {
        expect(dids.extract(ruri, to(toValue)), `${ruri} / ${toValue}`).toEqual(extractDid(ruri, to(toValue), createPhoneNormalizer('US')));
      }
    }
  });

  it('keeps none of the messages its Request-URIs and numbers were sliced from', () => {
    const dids = new DidExtractor(createPhoneNormalizer('GB'), 4000);
    const heapUsed = (): number => {
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };
    const before = heapUsed();
    for (let i = 0; i < 1500; i++) {
      const ruri = `sip:+4420${String(70_000_000 + i)}@127.0.0.1:5060;user=phone`;
      const message = `INVITE ${ruri} SIP/2.0\r\n${'x'.repeat(40_000)}`;
      expect(dids.extract(message.slice(7, 7 + ruri.length), to(undefined)).did).toBe(`+4420${String(70_000_000 + i)}`);
    }
    // Holding the messages would be 1,500 × 40 KB = 60 MB.
    expect(heapUsed() - before).toBeLessThan(15 * 1024 * 1024);
  });
});
