/** Character classes and scans shared by the SIP parsers (all work on latin1 text by index). */

/** The characters String.prototype.trim (and \s) remove within latin1, so index trimming matches them. */
export function isTrimSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0;
}

/** RFC 3261 token characters: alphanumerics and -.!%*_+`'~ */
export function isTokenChar(c: number): boolean {
  if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57)) return true;
  return c === 45 || c === 46 || c === 33 || c === 37 || c === 42 || c === 95 || c === 43 || c === 96 || c === 39 || c === 126;
}

/** True when text[at, at + word.length) is `word` (lowercase letters) in any letter case. */
export function lowerEquals(text: string, at: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) if ((text.charCodeAt(at + k) | 0x20) !== word.charCodeAt(k)) return false;
  return true;
}

/**
 * Quoted strings in text[start, end) closed (backslash escapes honoured): an open one swallows the
 * rest of the header.
 */
export function quotesBalanced(text: string, start = 0, end = text.length): boolean {
  const q = text.indexOf('"', start);
  if (q === -1 || q >= end) return true;
  let inQuote = false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (inQuote && c === 0x5c) i++;
    else if (c === 0x22) inQuote = !inQuote;
  }
  return !inQuote;
}

/**
 * text.startsWith(word, at), by character codes: String.prototype.startsWith is a builtin call that
 * cost ~50 ns here, which the per-message parsers paid several times per message.
 */
export function hasAt(text: string, at: number, word: string): boolean {
  if (at < 0 || at + word.length > text.length) return false;
  for (let k = 0; k < word.length; k++) if (text.charCodeAt(at + k) !== word.charCodeAt(k)) return false;
  return true;
}
