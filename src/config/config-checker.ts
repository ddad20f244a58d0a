import { ErrorCodes } from '../errors/codes.js';
import { RingproofError } from '../errors/ringproof-error.js';

/** Where a value sits in the config tree: ['trunks', 0, 'rejectCode'] prints as trunks[0].rejectCode. */
export type ConfigPath = readonly (string | number)[];

/** Where a value came from, for the error line: "env RINGPROOF_SIP_LISTEN", "ringproof.yaml line 12". */
export interface ValueOrigin {
  label: string;
  /** True when the value arrived as text (environment, flag) and numbers must be read from it. */
  text: boolean;
}

export type OriginLookup = (path: ConfigPath) => ValueOrigin | undefined;

export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  return out === '' ? '(top level)' : out;
}

/** A short, single-line rendering of an offending value. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') {
    const s = JSON.stringify(value);
    return s.length > 80 ? `${s.slice(0, 77)}..."` : s;
  }
  return String(value);
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(cur + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The one-line CONFIG_INVALID error: key path first, then the problem, then where the value came from. */
export function configInvalid(path: ConfigPath, problem: string, originLabel?: string): RingproofError {
  const where = originLabel ? ` (${originLabel})` : '';
  const line = `${formatPath(path)}: ${problem}${where}`.replace(/[\r\n]+/g, ' ');
  return new RingproofError(ErrorCodes.CONFIG_INVALID, line);
}

/**
 * Small typed readers for raw config values. Each either returns the typed value or throws a
 * RingproofError(CONFIG_INVALID) whose one-line message starts with the key path.
 */
export class ConfigChecker {
  constructor(private readonly origin: OriginLookup) {}

  fail(path: ConfigPath, problem: string): never {
    throw configInvalid(path, problem, this.origin(path)?.label);
  }

  /** `o[key]`, or a failure naming `path.key` when it is absent or null ("is required", then `hint`). */
  required(o: Record<string, unknown>, path: ConfigPath, key: string, hint?: string): unknown {
    const v = o[key];
    if (v === undefined || v === null) this.fail([...path, key], hint === undefined ? 'is required' : `is required: ${hint}`);
    return v;
  }

  /** A mapping whose keys are all known; null/absent reads as empty so every key takes its default. */
  mapping(value: unknown, path: ConfigPath, known: readonly string[]): Record<string, unknown> {
    if (value === undefined || value === null) return {};
    if (typeof value !== 'object' || Array.isArray(value)) {
      this.fail(path, `must be a mapping of keys, got ${describeValue(value)}`);
    }
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      if (known.includes(key)) continue;
      const near = known.find((k) => editDistance(k.toLowerCase(), key.toLowerCase()) <= 2);
      this.fail([...path, key], near ? `unknown key (did you mean "${near}"?)` : 'unknown key');
    }
    return obj;
  }

  list(value: unknown, path: ConfigPath): unknown[] {
    if (!Array.isArray(value)) this.fail(path, `must be a list, got ${describeValue(value)}`);
    return value;
  }

  string(value: unknown, path: ConfigPath, opts: { allowEmpty?: boolean } = {}): string {
    if (typeof value !== 'string') this.fail(path, `must be a string, got ${describeValue(value)}`);
    if (!opts.allowEmpty && value.trim() === '') this.fail(path, 'must not be empty');
    return value;
  }

  int(value: unknown, path: ConfigPath, min: number, max: number): number {
    let n: number = NaN;
    if (typeof value === 'number') n = value;
    // Environment and flags only carry text; a file must say what it means (8192, not "8192").
    else if (typeof value === 'string' && this.origin(path)?.text && /^\s*-?\d+\s*$/.test(value)) n = Number(value);
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      this.fail(path, `must be an integer from ${min} to ${max}, got ${describeValue(value)}`);
    }
    return n;
  }

  oneOf<T extends string | number>(value: unknown, path: ConfigPath, allowed: readonly T[]): T {
    let v = value;
    if (typeof v === 'string' && typeof allowed[0] === 'number' && this.origin(path)?.text && /^\d+$/.test(v)) {
      v = Number(v);
    }
    if (!allowed.includes(v as T)) {
      const choices = allowed.map((a) => (typeof a === 'string' ? `"${a}"` : String(a)));
      const list = choices.length === 2 ? choices.join(' or ') : `one of ${choices.join(', ')}`;
      this.fail(path, `must be ${list}, got ${describeValue(value)}`);
    }
    return v as T;
  }

  /** Reads key from obj with reader, or returns the default when the key is absent or null. */
  pick<T>(obj: Record<string, unknown>, path: ConfigPath, key: string, fallback: T, read: (v: unknown, p: ConfigPath) => T): T {
    const v = obj[key];
    return v === undefined || v === null ? fallback : read(v, [...path, key]);
  }
}
