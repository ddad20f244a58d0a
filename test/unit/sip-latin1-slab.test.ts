import { describe, expect, it } from 'vitest';
import { Latin1Slab } from '../../src/sip/transports/latin1-slab.js';

describe('Latin1Slab', () => {
  it('encodes each character as one byte, including latin1 above 0x7f', () => {
    const slab = new Latin1Slab();
    const text = 'SIP/2.0 486 Busy Here\r\nFrom: "J\u00f6rg \u00e9\u00ff" <sip:+49301234567@example.com>\r\n\r\n';
    const buf = slab.encode(text);
    expect(buf.length).toBe(text.length);
    expect(buf.toString('latin1')).toBe(text);
    expect(buf[text.indexOf('\u00ff')]).toBe(0xff);
  });

  it('never reuses space: earlier slices keep their bytes across many encodes and new slabs', () => {
    const slab = new Latin1Slab();
    const kept: Array<[Buffer, string]> = [];
    for (let i = 0; i < 2000; i++) {
      const text = `SIP/2.0 486 Busy Here\r\nCall-ID: ${i}-${'x'.repeat(i % 97)}@test\r\n\r\n`;
      const buf = slab.encode(text);
      if (i % 50 === 0) kept.push([buf, text]);
    }
    for (const [buf, text] of kept) expect(buf.toString('latin1')).toBe(text);
    // Slices of one slab do not overlap.
    const a = slab.encode('aaaa');
    const b = slab.encode('bbbb');
    expect(a.toString('latin1')).toBe('aaaa');
    expect(b.toString('latin1')).toBe('bbbb');
  });

  it('gives a large message a buffer of its own', () => {
    const slab = new Latin1Slab();
    const big = 'y'.repeat(40_000);
    const buf = slab.encode(big);
    expect(buf.length).toBe(40_000);
    expect(buf.toString('latin1')).toBe(big);
    expect(slab.encode('after').toString('latin1')).toBe('after');
  });
});
