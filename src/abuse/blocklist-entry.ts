import { validationError } from '../api/api-request-error.js';

/** What a blocklist entry matches: a caller's number (E.164), a number prefix, or a caller name (From display name). */
export type BlocklistKind = 'number' | 'prefix' | 'name';
export const BLOCKLIST_KINDS: readonly BlocklistKind[] = ['number', 'prefix', 'name'];

/** One entry, as stored in Redis (JSON) and returned by the API. */
export interface BlocklistEntry {
  kind: BlocklistKind;
  /** number: E.164 ("+12025550123"); prefix: "+" and 1-15 digits; name: the caller name as given. */
  value: string;
  /** A short machine-readable reason ("fraud", "complaint", "auto:hammering"): counted as a metric label. */
  reason: string;
  /** Free text for people. */
  note?: string;
  /** Epoch ms when the entry lapses; null = until removed. */
  expiresAt: number | null;
  createdAt: number;
  /** The API key name, "cli", or "auto" for an automatic block. */
  createdBy: string;
}

/** What a caller asks to add (API body, CLI arguments), before it is stamped. */
export interface BlocklistInput {
  kind: BlocklistKind;
  value: string;
  reason: string;
  note?: string;
  expiresAt: number | null;
}

export const REASON_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
const NUMBER = /^\+[1-9]\d{6,14}$/;
const PREFIX = /^\+[1-9]\d{0,14}$/;
const MAX_NAME = 128;
const MAX_NOTE = 500;
/** Ten years: beyond that an expiry is a typo. */
const MAX_TTL_SECONDS = 10 * 365 * 86_400;

/** Caller names match whatever their case, spacing or Unicode form. */
export function normalizeCallerName(name: string): string {
  return name.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

/** The key an entry is stored and matched under: one entry per (kind, matched value). */
export function blocklistField(kind: BlocklistKind, value: string): string {
  return `${kind}:${kind === 'name' ? normalizeCallerName(value) : value}`;
}

/** Number and prefix values without the spaces, dashes, dots and parentheses people write them with. */
function compactNumber(value: string): string {
  return value.replace(/[\s\-.()]/g, '');
}

/** The stored form of `value` for `kind`, or the problem with it. */
export function blocklistValue(kind: BlocklistKind, raw: string): { value: string } | { problem: string } {
  if (kind === 'name') {
    const value = raw.trim().replace(/\s+/g, ' ');
    if (value === '' || value.length > MAX_NAME || /[\u0000-\u001f\u007f]/.test(value)) {
      return { problem: `must be a caller name of 1-${MAX_NAME} printable characters` };
    }
    return { value };
  }
  const value = compactNumber(raw);
  if (kind === 'number' && !NUMBER.test(value)) return { problem: 'must be an E.164 number: "+" and 7-15 digits, e.g. "+12025550123"' };
  if (kind === 'prefix' && !PREFIX.test(value)) return { problem: 'must be a number prefix: "+" and 1-15 digits, e.g. "+1202555"' };
  return { value };
}

/**
 * Reads an add request: `{kind, value, reason, note?, expiresAt? | ttlSeconds?}`. Throws a 400
 * validation error naming the field for anything else (unknown members included).
 */
export function parseBlocklistInput(body: unknown, now: number): BlocklistInput {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw validationError('body must be a JSON object', 'body');
  const o = body as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!['kind', 'value', 'reason', 'note', 'expiresAt', 'ttlSeconds'].includes(key)) throw validationError(`body/${key} is not an allowed property`, key);
  }
  if (typeof o.kind !== 'string' || !BLOCKLIST_KINDS.includes(o.kind as BlocklistKind)) {
    throw validationError(`kind must be one of ${BLOCKLIST_KINDS.join(', ')}`, 'kind');
  }
  const kind = o.kind as BlocklistKind;
  if (typeof o.value !== 'string') throw validationError('value must be a string', 'value');
  const v = blocklistValue(kind, o.value);
  if ('problem' in v) throw validationError(`value ${v.problem}`, 'value');
  if (typeof o.reason !== 'string' || !REASON_PATTERN.test(o.reason)) {
    throw validationError('reason must be 1-64 characters of A-Z, a-z, 0-9, "_", ".", ":" or "-" (e.g. "fraud"); put prose in note', 'reason');
  }
  const input: BlocklistInput = { kind, value: v.value, reason: o.reason, expiresAt: null };
  if (o.note !== undefined) {
    if (typeof o.note !== 'string' || o.note.length > MAX_NOTE) throw validationError(`note must be a string of at most ${MAX_NOTE} characters`, 'note');
    input.note = o.note;
  }
  if (o.expiresAt !== undefined && o.ttlSeconds !== undefined) throw validationError('give expiresAt or ttlSeconds, not both', 'ttlSeconds');
  if (o.ttlSeconds !== undefined) {
    if (typeof o.ttlSeconds !== 'number' || !Number.isInteger(o.ttlSeconds) || o.ttlSeconds < 1 || o.ttlSeconds > MAX_TTL_SECONDS) {
      throw validationError(`ttlSeconds must be an integer from 1 to ${MAX_TTL_SECONDS}`, 'ttlSeconds');
    }
    input.expiresAt = now + o.ttlSeconds * 1000;
  }
  if (o.expiresAt !== undefined && o.expiresAt !== null) {
    const at = typeof o.expiresAt === 'string' && /^\d{4}-\d\d-\d\dT/.test(o.expiresAt) ? Date.parse(o.expiresAt) : Number.NaN;
    if (!Number.isFinite(at) || at <= now || at > now + MAX_TTL_SECONDS * 1000) {
      throw validationError('expiresAt must be an ISO 8601 time in the future (within ten years), e.g. "2030-01-01T00:00:00Z"', 'expiresAt');
    }
    input.expiresAt = at;
  }
  return input;
}

/** An entry read back from Redis; undefined when the stored text is not one (never trusted blindly). */
export function decodeBlocklistEntry(text: string): BlocklistEntry | undefined {
  try {
    const e = JSON.parse(text) as BlocklistEntry;
    if (!BLOCKLIST_KINDS.includes(e.kind) || typeof e.value !== 'string' || typeof e.reason !== 'string') return undefined;
    if (e.expiresAt !== null && typeof e.expiresAt !== 'number') return undefined;
    return e;
  } catch {
    return undefined;
  }
}

/** True once `entry` has lapsed at `now`. */
export function isExpired(entry: BlocklistEntry, now: number): boolean {
  return entry.expiresAt !== null && now >= entry.expiresAt;
}
