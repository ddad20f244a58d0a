import { isTrimSpace } from './sip-chars.js';

/** Read access to ";name=value" parameters (URI, user-part or header parameters). */
export interface Params {
  /** The value of the first parameter with this lowercase name ("" for a flag), else undefined. */
  get(name: string): string | undefined;
  has(name: string): boolean;
  /** Distinct names. */
  readonly size: number;
}

/**
 * Parameters kept as their text and searched when asked: the edge asks for one or two names
 * (verstat, party, privacy) of a handful of values per call, so a Map per parameter list was
 * allocation spent on names nobody reads. Names match case-insensitively and the first occurrence
 * wins, so a later duplicate cannot override what a proxy put first. Values are trimmed, unquoted and
 * %XX-unescaped.
 */
export class ParamList implements Params {
  private parsed: Map<string, string> | undefined;

  /** `text` is ";a=b;c" (the leading ";" optional). */
  constructor(private readonly text: string) {}

  get(name: string): string | undefined {
    const text = this.text;
    const b = BOUNDS;
    for (let start = 0; start <= text.length; start = b.next) {
      readParam(text, start, b);
      if (b.nameEnd - b.nameStart === name.length && nameMatches(text, b.nameStart, name)) {
        return b.eq < 0 ? '' : valueAt(text, b.eq + 1, b.end);
      }
    }
    return undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  get size(): number {
    return (this.parsed ??= parseParams(this.text)).size;
  }
}

export const NO_PARAMS: Params = new ParamList('');

/** Every parameter of ";a=b;c" in a Map with lowercase names (first occurrence wins). */
export function parseParams(text: string): Map<string, string> {
  const map = new Map<string, string>();
  const b = BOUNDS;
  for (let start = 0; start <= text.length; start = b.next) {
    readParam(text, start, b);
    if (b.nameEnd > b.nameStart) {
      const name = text.slice(b.nameStart, b.nameEnd).toLowerCase();
      if (!map.has(name)) map.set(name, b.eq < 0 ? '' : valueAt(text, b.eq + 1, b.end));
    }
  }
  return map;
}

/** Where one parameter lies in its text; an empty name (nameEnd === nameStart) means none. */
interface ParamBounds {
  nameStart: number;
  nameEnd: number;
  /** Index of "=", or -1 for a flag parameter. */
  eq: number;
  /** End of the trimmed parameter. */
  end: number;
  /** Where the next parameter starts. */
  next: number;
}

// One reused record: scans are synchronous and never nested, and so allocate nothing.
const BOUNDS: ParamBounds = { nameStart: 0, nameEnd: 0, eq: -1, end: 0, next: 0 };

/** Fills `b` for the parameter starting at `start` (up to the next ";"), names and ends trimmed. */
function readParam(text: string, start: number, b: ParamBounds): void {
  const len = text.length;
  let end = text.indexOf(';', start);
  if (end === -1) end = len;
  let ps = start;
  let pe = end;
  while (ps < pe && isTrimSpace(text.charCodeAt(ps))) ps++;
  while (pe > ps && isTrimSpace(text.charCodeAt(pe - 1))) pe--;
  let eq = ps < pe ? text.indexOf('=', ps) : -1;
  if (eq >= pe) eq = -1;
  let ne = eq < 0 ? pe : eq;
  while (ne > ps && isTrimSpace(text.charCodeAt(ne - 1))) ne--;
  b.nameStart = ps;
  b.nameEnd = ne;
  b.eq = eq;
  b.end = pe;
  b.next = end + 1;
}

/** text[start, end) trimmed, one pair of surrounding quotes removed, %XX escapes decoded. */
function valueAt(text: string, start: number, end: number): string {
  let vs = start;
  let ve = end;
  while (vs < ve && isTrimSpace(text.charCodeAt(vs))) vs++;
  if (ve - vs >= 2 && text.charCodeAt(vs) === 0x22 && text.charCodeAt(ve - 1) === 0x22) {
    vs++;
    ve--;
  }
  return unescapeUriPart(text.slice(vs, ve));
}

/** text[at, at + name.length) equals the lowercase ASCII `name`, ignoring ASCII letter case. */
function nameMatches(text: string, at: number, name: string): boolean {
  for (let k = 0; k < name.length; k++) {
    let c = text.charCodeAt(at + k);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== name.charCodeAt(k)) return false;
  }
  return true;
}

/** Decodes %XX escapes to latin1 characters; a malformed escape is kept as written. */
export function unescapeUriPart(s: string): string {
  if (s.indexOf('%') < 0) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === '%' && i + 2 < s.length && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}
