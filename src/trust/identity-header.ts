/**
 * RFC 8224 Identity header values, full form only:
 *   Identity: <header>.<payload>.<signature>;info=<https://cert.example/sp.pem>;alg=ES256;ppt=shaken
 * The compact form (empty payload, claims rebuilt from the SIP message) is not supported: SHAKEN
 * carriers send the full form, and rebuilding claims from headers a spoofer controls adds nothing.
 */

export interface IdentityValue {
  /** The PASSporT as a JWS compact serialization. */
  token: string;
  /** The `info` URI without its angle brackets. */
  info: string | undefined;
  alg: string | undefined;
  ppt: string | undefined;
}

export type IdentityParse =
  | { ok: true; value: IdentityValue }
  | { ok: false; reason: 'identity_malformed' | 'identity_compact_form'; detail: string };

/** Longest PASSporT we look at; a SHAKEN one is ~700 characters. */
export const MAX_TOKEN_CHARS = 4096;
/** Most Identity values considered per call (SHAKEN sends one; diversion adds one per hop). */
export const MAX_IDENTITY_VALUES = 4;
const MAX_PARAMS = 16;

const TOKEN = /^[A-Za-z0-9_-]+\.([A-Za-z0-9_-]*)\.[A-Za-z0-9_-]+$/;
const PARAM_NAME = /^[A-Za-z0-9._!%*+`'~-]+$/;

/** Splits at `sep` outside <...> and "...", so URIs and quoted strings may hold it. */
function splitTopLevel(text: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '<') depth++;
    else if (c === '>') depth = Math.max(0, depth - 1);
    else if (c === sep && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

/** The values of one or several Identity headers joined by ','; empty entries dropped. */
export function splitIdentityValues(raw: string): string[] {
  return splitTopLevel(raw, ',').map((s) => s.trim()).filter((s) => s !== '');
}

function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, '$1') : v;
}

export function parseIdentityValue(text: string): IdentityParse {
  const bad = (detail: string): IdentityParse => ({ ok: false, reason: 'identity_malformed', detail });
  const parts = splitTopLevel(text, ';');
  const token = (parts[0] ?? '').trim();
  if (token.length > MAX_TOKEN_CHARS) return bad(`token longer than ${MAX_TOKEN_CHARS} characters`);
  const m = TOKEN.exec(token);
  if (m === null) return bad('token is not a JWS compact serialization (base64url header.payload.signature)');
  if (m[1] === '') return { ok: false, reason: 'identity_compact_form', detail: 'compact form (empty PASSporT payload) is not supported' };
  if (parts.length - 1 > MAX_PARAMS) return bad('too many parameters');
  const params = new Map<string, string>();
  for (const p of parts.slice(1)) {
    const eq = p.indexOf('=');
    const name = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? '' : p.slice(eq + 1).trim();
    if (!PARAM_NAME.test(name)) return bad('parameter without a valid name');
    if (params.has(name)) return bad(`parameter "${name}" appears twice`);
    params.set(name, value);
  }
  const infoRaw = params.get('info');
  let info: string | undefined;
  if (infoRaw !== undefined) {
    if (!infoRaw.startsWith('<') || !infoRaw.endsWith('>') || infoRaw.length < 3) return bad('info must be a URI in angle brackets');
    info = infoRaw.slice(1, -1).trim();
  }
  const alg = params.get('alg');
  const ppt = params.get('ppt');
  if (alg === '' || ppt === '') return bad('empty alg or ppt parameter');
  return {
    ok: true,
    value: { token, info, alg: alg === undefined ? undefined : unquote(alg), ppt: ppt === undefined ? undefined : unquote(ppt) },
  };
}
