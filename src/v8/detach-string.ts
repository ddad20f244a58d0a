/**
 * A copy of `s` that does not keep its source text alive. Header values are slices of the whole
 * datagram's text, and V8 keeps a slice's (or a concatenation's) parent string reachable; a
 * transaction holding its Call-ID and key for the T4 wait would otherwise hold each INVITE's full
 * text, which the young-generation GC then copies twice and promotes. Slicing a fresh concatenation
 * makes V8 flatten it into a new string of just these characters.
 */
export function detachString(s: string): string {
  return (' ' + s).slice(1);
}
