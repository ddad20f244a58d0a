import type { Attestation, CallerTrustReason } from './caller-trust-types.js';
import { canonicalTn } from './telephone-number.js';

/** A SHAKEN PASSporT's protected header and claims (RFC 8225, RFC 8588), decoded, not yet verified. */
export interface ShakenPassport {
  x5u: string;
  attest: Attestation;
  /** Canonical TN digits. */
  origTn: string;
  destTns: string[];
  /** Seconds since the epoch. */
  iat: number;
  origid: string;
}

export type PassportDecode =
  | { ok: true; passport: ShakenPassport }
  | { ok: false; reason: CallerTrustReason; detail: string };

/** Decoded JSON larger than this is not a PASSporT (a SHAKEN payload is ~200 bytes). */
const MAX_JSON_BYTES = 2048;
const MAX_DEST_TNS = 16;
const MAX_ORIGID_CHARS = 128;
const MAX_X5U_CHARS = 2048;

function decodeJsonPart(part: string): Record<string, unknown> | undefined {
  // base64url of MAX_JSON_BYTES is at most 4/3 as long; the token regex already allowed only base64url.
  if (part.length > Math.ceil((MAX_JSON_BYTES * 4) / 3)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function tnOf(obj: unknown): unknown {
  return obj !== null && typeof obj === 'object' ? (obj as Record<string, unknown>).tn : undefined;
}

/**
 * Decodes the PASSporT of a full-form token and checks its header and SHAKEN claims for shape.
 * Signature, certificate and the call-specific checks come later.
 */
export function decodePassport(token: string): PassportDecode {
  const [h = '', p = ''] = token.split('.');
  const header = decodeJsonPart(h);
  const payload = decodeJsonPart(p);
  if (header === undefined || payload === undefined) {
    return { ok: false, reason: 'passport_malformed', detail: 'header or payload is not base64url of a JSON object' };
  }
  if (header.alg !== 'ES256') {
    return { ok: false, reason: 'alg_unsupported', detail: `alg ${JSON.stringify(header.alg ?? null).slice(0, 20)} is not ES256` };
  }
  if (header.typ !== undefined && header.typ !== 'passport') return { ok: false, reason: 'passport_malformed', detail: 'typ is not "passport"' };
  if (header.ppt !== 'shaken') return { ok: false, reason: 'ppt_unsupported', detail: 'ppt is not "shaken"' };
  const x5u = header.x5u;
  if (typeof x5u !== 'string' || x5u === '' || x5u.length > MAX_X5U_CHARS) {
    return { ok: false, reason: 'passport_malformed', detail: 'x5u is missing or too long' };
  }
  const claims = (detail: string): PassportDecode => ({ ok: false, reason: 'claims_invalid', detail });
  const attest = payload.attest;
  if (attest !== 'A' && attest !== 'B' && attest !== 'C') return claims('attest is not A, B or C');
  const origRaw = tnOf(payload.orig);
  const origTn = typeof origRaw === 'string' ? canonicalTn(origRaw) : undefined;
  if (origTn === undefined) return claims('orig.tn is not a telephone number');
  const destRaw = tnOf(payload.dest);
  if (!Array.isArray(destRaw) || destRaw.length === 0 || destRaw.length > MAX_DEST_TNS) {
    return claims(`dest.tn is not an array of 1 to ${MAX_DEST_TNS} telephone numbers`);
  }
  const destTns: string[] = [];
  for (const d of destRaw) {
    const tn = typeof d === 'string' ? canonicalTn(d) : undefined;
    if (tn === undefined) return claims('dest.tn holds a value that is not a telephone number');
    destTns.push(tn);
  }
  const iat = payload.iat;
  if (typeof iat !== 'number' || !Number.isSafeInteger(iat) || iat <= 0) return claims('iat is not a positive integer');
  const origid = payload.origid;
  if (typeof origid !== 'string' || origid === '' || origid.length > MAX_ORIGID_CHARS) return claims('origid is missing');
  return { ok: true, passport: { x5u, attest, origTn, destTns, iat, origid } };
}
