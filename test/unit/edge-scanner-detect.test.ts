import { describe, expect, it } from 'vitest';
import { compileScannerDetector } from '../../src/edge/scanner-detect.js';

describe('compileScannerDetector', () => {
  const d = compileScannerDetector(['friendly-scanner', 'sipvicious', 'sipcli', 'VaxSIPUserAgent', 'a.b(c)']);

  it('matches substrings case-insensitively', () => {
    expect(d.isScanner('friendly-scanner')).toBe(true);
    expect(d.isScanner('Friendly-Scanner/1.0')).toBe(true);
    expect(d.isScanner('sipcli/v1.8')).toBe(true);
    expect(d.isScanner('vaxsipuseragent/3.1')).toBe(true);
    expect(d.isScanner('x SIPVicious y')).toBe(true);
  });

  it('does not match carriers or missing User-Agent', () => {
    expect(d.isScanner('Sonus SBC')).toBe(false);
    expect(d.isScanner('')).toBe(false);
    expect(d.isScanner(undefined)).toBe(false);
  });

  it('treats configured text literally, not as a regex', () => {
    expect(d.isScanner('zz a.b(c) zz')).toBe(true);
    expect(d.isScanner('axb(c)')).toBe(false);
  });

  it('matches nothing when the list is empty or blank', () => {
    expect(compileScannerDetector([]).isScanner('friendly-scanner')).toBe(false);
    expect(compileScannerDetector(['', '  ']).isScanner('anything')).toBe(false);
  });
});

describe('scanner detection with alternating User-Agents', () => {
  it('judges each User-Agent afresh when it changes', () => {
    const d = compileScannerDetector(['friendly-scanner', 'sipvicious']);
    const seq = ['Carrier SBC 1.0', 'friendly-scanner', 'friendly-scanner', 'Carrier SBC 1.0', 'SIPVicious 0.3', 'Carrier SBC 1.0', ''];
    expect(seq.map((ua) => d.isScanner(ua))).toEqual([false, true, true, false, true, false, false]);
  });
});
