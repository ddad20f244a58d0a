import type { NumberClassifier } from './number-classifier.js';
import type { NumberPolicy, PolicyVerdict } from './number-policy.js';
import { VERIFICATION_METHODS, type PhoneNumberInfo, type VerificationMethod } from './number-types.js';

/** What `ringproof numbers classify` says about one number: its classification and each method's verdict. */
export interface ClassifyReport {
  e164: string;
  info: PhoneNumberInfo;
  verdicts: Record<VerificationMethod, PolicyVerdict>;
}

export function classifyReport(e164: string, classifier: NumberClassifier, policy: NumberPolicy, keyName?: string): ClassifyReport {
  const info = classifier.classify(e164);
  const verdicts = Object.fromEntries(VERIFICATION_METHODS.map((m) => [m, policy.evaluate(e164, info, m, keyName)])) as Record<VerificationMethod, PolicyVerdict>;
  return { e164, info, verdicts };
}

/** Plain-text lines: the number, then one line per method. */
export function formatClassifyReport(r: ClassifyReport): string[] {
  const width = Math.max(...VERIFICATION_METHODS.map((m) => m.length)) + 1;
  const lines = [`${r.e164}  country ${r.info.country} (+${r.info.countryCallingCode})  type ${r.info.type}  ${r.info.valid ? 'valid' : 'not valid'}`];
  for (const m of VERIFICATION_METHODS) {
    const v = r.verdicts[m];
    const what = v.allowed
      ? `allowed${v.flags.length > 0 ? ` (flagged: ${v.flags.join(', ')})` : ''}`
      : `refused by ${v.rule}: ${v.message}`;
    lines.push(`  ${`${m}:`.padEnd(width + 1)}${what}`);
  }
  return lines;
}
