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

/** The header names seen on nearly every request, fast-matched without building a lowercase copy. */
const KNOWN_BY_LENGTH: readonly (readonly string[])[] = (() => {
  const names = [
    'via', 'from', 'to', 'call-id', 'cseq', 'max-forwards', 'content-length', 'content-type', 'contact',
    'user-agent', 'allow', 'supported', 'require', 'p-asserted-identity', 'remote-party-id', 'privacy',
    'identity', 'route', 'record-route', 'expires', 'accept', 'session-expires', 'min-se', 'diversion',
    'p-preferred-identity', 'reason', 'date', 'server', 'organization', 'p-charging-vector',
  ];
  const out: string[][] = [];
  for (const n of names) (out[n.length] ??= []).push(n);
  return out;
})();

/**
 * The canonical name of the header name text[start, end), when it is one of the common full names
 * (any letter case) or a compact form, else undefined (the caller then takes the general path).
 * Equivalent to canonicalHeaderName(text.slice(start, end)) for those names; allocates nothing.
 */
export function knownHeaderNameAt(text: string, start: number, end: number): string | undefined {
  const len = end - start;
  if (len === 1) {
    const c = text.charCodeAt(start) | 0x20;
    if (c < 97 || c > 122) return undefined;
    return COMPACT[String.fromCharCode(c)];
  }
  const candidates = KNOWN_BY_LENGTH[len];
  if (candidates === undefined) return undefined;
  for (let k = 0; k < candidates.length; k++) {
    const name = candidates[k] as string;
    let i = 0;
    for (; i < len; i++) {
      const c = text.charCodeAt(start + i);
      const e = name.charCodeAt(i);
      // Names hold only lowercase letters and "-": an uppercase letter matches its lowercase form.
      if (c !== e && !(e >= 97 && e <= 122 && c === e - 32)) break;
    }
    if (i === len) return name;
  }
  return undefined;
}
