/** Longest x5u we accept. */
const MAX_URL_CHARS = 2048;
/** Path segments a provisioned-certificate directory may map to (no "%", no dot segments). */
const SAFE_SEGMENT = /^[A-Za-z0-9._~!$&'()*+,;=:@-]+$/;

export type X5uCheck = { ok: true; url: URL } | { ok: false; detail: string };

/**
 * The rules every x5u passes before it is looked up or fetched: an absolute https URL with a host,
 * no credentials, no query and no fragment (a certificate URL needs neither, and a query is the usual
 * way to point a verifier's fetch at something else), at most 2,048 characters.
 */
export function checkX5u(text: string): X5uCheck {
  if (text.length > MAX_URL_CHARS) return { ok: false, detail: 'x5u is too long' };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, detail: 'x5u is not an absolute URL' };
  }
  if (url.protocol !== 'https:') return { ok: false, detail: 'x5u is not an https URL' };
  if (url.username !== '' || url.password !== '') return { ok: false, detail: 'x5u carries credentials' };
  if (url.search !== '' || text.includes('?')) return { ok: false, detail: 'x5u carries a query' };
  if (url.hash !== '' || text.includes('#')) return { ok: false, detail: 'x5u carries a fragment' };
  if (url.hostname === '') return { ok: false, detail: 'x5u has no host' };
  return { ok: true, url };
}

/**
 * Where a provisioned copy of an x5u's certificates lives under a local directory: host[:port] then
 * the URL path, as a mirror would store it ("https://cr.example.net/sti/sp.pem" →
 * "cr.example.net/sti/sp.pem"). Undefined when a segment could climb out or is unusual.
 */
export function x5uLocalPath(url: URL): string[] | undefined {
  const segments = [url.host, ...url.pathname.split('/').filter((s) => s !== '')];
  if (segments.length < 2) return undefined;
  for (const s of segments) {
    if (s === '.' || s === '..' || !SAFE_SEGMENT.test(s)) return undefined;
  }
  return segments;
}
