import { createHash, randomBytes } from 'node:crypto';

/**
 * HTTP Digest for SIP (RFC 3261 §22, RFC 7616 hashes as RFC 8760 brings them to SIP): read the
 * challenges of a 401/407, pick the strongest we support, answer it with qop=auth (or the RFC 2069
 * form when the challenge offers no qop).
 */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque: string | undefined;
  /** Upper case as written by the server, e.g. "SHA-256", "MD5-sess"; "MD5" when absent. */
  algorithm: string;
  /** qop options offered, lower case; empty = none (RFC 2069 compatibility). */
  qop: string[];
  stale: boolean;
}

/** Supported algorithms, strongest first; the -sess variants rank just after their base. */
const RANKED = ['SHA-512-256', 'SHA-512-256-SESS', 'SHA-256', 'SHA-256-SESS', 'MD5', 'MD5-SESS'] as const;
const NODE_HASH: Record<string, string> = { 'SHA-512-256': 'sha512-256', 'SHA-256': 'sha256', MD5: 'md5' };

/** Reads one `Digest k=v, k="v"` challenge; undefined when it is not Digest or lacks realm/nonce. */
export function parseChallenge(value: string): DigestChallenge | undefined {
  const m = /^\s*Digest\s+/i.exec(value);
  if (!m) return undefined;
  const params = new Map<string, string>();
  const re = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/gy;
  re.lastIndex = m[0].length;
  for (let p = re.exec(value); p !== null; p = re.exec(value)) {
    const key = (p[1] as string).toLowerCase();
    if (!params.has(key)) params.set(key, p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] as string));
    if (re.lastIndex >= value.length) break;
  }
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  if (realm === undefined || nonce === undefined) return undefined;
  return {
    realm,
    nonce,
    opaque: params.get('opaque'),
    algorithm: (params.get('algorithm') ?? 'MD5').toUpperCase(),
    qop: (params.get('qop') ?? '').split(',').map((q) => q.trim().toLowerCase()).filter((q) => q !== ''),
    stale: (params.get('stale') ?? '').toLowerCase() === 'true',
  };
}

/** Several challenges may share one header line ("Digest a=1, Digest b=2"): split them. */
export function splitChallenges(headerValue: string): string[] {
  return headerValue.split(/,\s*(?=Digest\s)/i);
}

/**
 * The strongest challenge we can answer: a supported algorithm, qop auth or none (auth-int only is
 * unanswerable without hashing the body), and the configured realm when one is set.
 */
export function pickChallenge(values: readonly string[], realm: string | undefined): DigestChallenge | undefined {
  let best: DigestChallenge | undefined;
  let bestRank: number = RANKED.length;
  for (const v of values) {
    for (const part of splitChallenges(v)) {
      const ch = parseChallenge(part);
      if (ch === undefined || (realm !== undefined && ch.realm !== realm)) continue;
      if (ch.qop.length > 0 && !ch.qop.includes('auth')) continue;
      const rank = RANKED.indexOf(ch.algorithm as (typeof RANKED)[number]);
      if (rank !== -1 && rank < bestRank) {
        best = ch;
        bestRank = rank;
      }
    }
  }
  return best;
}

function hashWith(algorithm: string): (s: string) => string {
  const base = algorithm.replace(/-SESS$/, '');
  const name = NODE_HASH[base] as string;
  return (s) => createHash(name).update(s, 'utf8').digest('hex');
}

export interface DigestAnswer {
  /** The header value: `Digest username="…", …`. */
  value: string;
  /** The response digest (for tests and debugging). */
  response: string;
}

/** The Authorization / Proxy-Authorization value answering `ch` for `method uri`. */
export function answerChallenge(
  ch: DigestChallenge,
  creds: { username: string; password: string },
  method: string,
  uri: string,
  nc = 1,
  cnonce = randomBytes(12).toString('hex'),
): DigestAnswer {
  const H = hashWith(ch.algorithm);
  let ha1 = H(`${creds.username}:${ch.realm}:${creds.password}`);
  if (ch.algorithm.endsWith('-SESS')) ha1 = H(`${ha1}:${ch.nonce}:${cnonce}`);
  const ha2 = H(`${method}:${uri}`);
  const useQop = ch.qop.length > 0;
  const ncText = nc.toString(16).padStart(8, '0');
  const response = useQop ? H(`${ha1}:${ch.nonce}:${ncText}:${cnonce}:auth:${ha2}`) : H(`${ha1}:${ch.nonce}:${ha2}`);
  const q = (s: string): string => `"${s.replace(/["\\]/g, '\\$&')}"`;
  let value = `Digest username=${q(creds.username)}, realm=${q(ch.realm)}, nonce=${q(ch.nonce)}, uri=${q(uri)}, response=${q(response)}, algorithm=${ch.algorithm}`;
  if (useQop) value += `, cnonce=${q(cnonce)}, qop=auth, nc=${ncText}`;
  if (ch.opaque !== undefined) value += `, opaque=${q(ch.opaque)}`;
  return { value, response };
}
