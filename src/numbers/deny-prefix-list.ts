import { readFileSync } from 'node:fs';
import { ErrorCodes } from '../errors/codes.js';
import { RingproofError } from '../errors/ringproof-error.js';

export interface DenyPrefix {
  /** "+" and 1–15 digits, e.g. "+882". */
  prefix: string;
  reason: string;
}

const PREFIX = /^\+[1-9]\d{0,14}$/;
const MAX_REASON = 200;

/**
 * The operator's deny-list of number prefixes (their IRSF list): one `+prefix reason…` per line,
 * `#` starts a comment. A malformed line is an error naming the file and line, never skipped:
 * a typo must not silently unblock a range.
 */
export function parseDenyPrefixes(text: string, source: string): DenyPrefix[] {
  const out: DenyPrefix[] = [];
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const fail = (why: string): never => {
      throw new RingproofError(ErrorCodes.CONFIG_INVALID, `${source} line ${i + 1}: ${why}`);
    };
    const m = /^(\S+)(?:\s+(.*))?$/.exec(line);
    const prefix = m?.[1] ?? '';
    if (!PREFIX.test(prefix)) fail(`${JSON.stringify(prefix)} is not a number prefix: "+" and 1 to 15 digits, e.g. +882`);
    const reason = (m?.[2] ?? '').trim();
    if (reason === '') fail(`${prefix} needs a reason after it (it is given in refusals)`);
    if (reason.length > MAX_REASON) fail(`the reason for ${prefix} is longer than ${MAX_REASON} characters`);
    const first = seen.get(prefix);
    if (first !== undefined) fail(`${prefix} is already listed on line ${first}`);
    seen.set(prefix, i + 1);
    out.push({ prefix, reason });
  });
  return out;
}

export function readDenyPrefixFile(path: string): DenyPrefix[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new RingproofError(ErrorCodes.CONFIG_UNREADABLE, `numbers.denyPrefixesFile: cannot read ${path} (${code})`);
  }
  return parseDenyPrefixes(text, path);
}

/** Longest-prefix lookup: at most 15 Map probes per number, whatever the list's size. */
export class DenyPrefixList {
  readonly size: number;
  private readonly byPrefix: ReadonlyMap<string, DenyPrefix>;
  private readonly lengths: readonly number[];

  constructor(entries: readonly DenyPrefix[]) {
    this.byPrefix = new Map(entries.map((e) => [e.prefix, e]));
    this.lengths = [...new Set(entries.map((e) => e.prefix.length))].sort((a, b) => b - a);
    this.size = this.byPrefix.size;
  }

  /** The most specific entry covering an E.164 number, if any. */
  match(e164: string): DenyPrefix | undefined {
    for (const len of this.lengths) {
      if (len > e164.length) continue;
      const hit = this.byPrefix.get(e164.slice(0, len));
      if (hit) return hit;
    }
    return undefined;
  }
}
