/** RFC 3261 §7.3.3 compact forms (and later RFCs'), expanded at parse time so nothing else sees them. */
const COMPACT: Record<string, string> = {
  i: 'call-id', m: 'contact', e: 'content-encoding', l: 'content-length', c: 'content-type',
  f: 'from', s: 'subject', k: 'supported', t: 'to', v: 'via', o: 'event', r: 'refer-to',
  b: 'referred-by', x: 'session-expires', u: 'allow-events', a: 'accept-contact',
  j: 'reject-contact', d: 'request-disposition', y: 'identity', n: 'identity-info',
};

/** Lowercased full header name; compact single letters expanded. */
export function canonicalHeaderName(raw: string): string {
  const lower = raw.toLowerCase();
  return lower.length === 1 ? (COMPACT[lower] ?? lower) : lower;
}

/** Display forms for the headers we write back in responses. */
export const DISPLAY_NAME: Readonly<Record<string, string>> = {
  via: 'Via', from: 'From', to: 'To', 'call-id': 'Call-ID', cseq: 'CSeq',
};
