/** What the UAS needs from the topmost Via: transaction matching and response routing fields. */
export interface TopVia {
  /** The first Via element's raw text (one value of possibly several in the header line). */
  raw: string;
  /** Rest of that header line after the first element, starting with "," or empty. */
  rest: string;
  transport: string;
  host: string;
  port: number | undefined;
  branch: string | undefined;
  hasRport: boolean;
  /** False when the Via has empty parameters or list items (";;", ",,"): answer 400. */
  wellFormed: boolean;
}

// sent-protocol "SIP / 2.0 / UDP" may carry LWS around the slashes (RFC 4475 wsinv).
const VIA_RE = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z0-9\-.!%*_+`'~]+)\s+(\[[0-9A-Fa-f:.]+\]|[^\s;:,]+)(?:\s*:\s*(\d{1,5}))?\s*(;.*)?$/;

/** Parses the first element of the first Via header line, or undefined when it is malformed. */
export function parseTopVia(line: string): TopVia | undefined {
  const comma = firstTopLevelComma(line);
  const raw = comma === -1 ? line : line.slice(0, comma).trim();
  const rest = comma === -1 ? '' : line.slice(comma);
  const m = VIA_RE.exec(raw);
  if (!m) return undefined;
  let branch: string | undefined;
  let hasRport = false;
  let wellFormed = !/,\s*(,|;|$)/.test(rest);
  const params = m[4];
  if (params !== undefined) {
    for (const p of params.slice(1).split(';')) {
      const eq = p.indexOf('=');
      const name = (eq === -1 ? p : p.slice(0, eq)).trim().toLowerCase();
      if (name === '') wellFormed = false;
      if (name === 'branch' && eq !== -1) branch = p.slice(eq + 1).trim();
      else if (name === 'rport') hasRport = true;
    }
  }
  const portText = m[3];
  const port = portText === undefined ? undefined : Number.parseInt(portText, 10);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  return { raw, rest, transport: (m[1] as string).toUpperCase(), host: m[2] as string, port, branch, hasRport, wellFormed };
}

function firstTopLevelComma(s: string): number {
  let inQuote = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) inQuote = !inQuote;
    else if (c === 0x2c && !inQuote) return i;
  }
  return -1;
}

/**
 * The top Via as it goes back in a response: `received` when the sender is not where its Via says
 * (always with rport, RFC 3581), and the rport filled with the source port.
 */
export function rewriteTopVia(via: TopVia, srcAddress: string, srcPort: number): string {
  let out = via.raw;
  if (via.hasRport) out = out.replace(/;\s*rport(?=\s*(?:;|$))/i, `;rport=${srcPort}`);
  const host = via.host.charCodeAt(0) === 0x5b ? via.host.slice(1, -1) : via.host;
  if (via.hasRport || host !== srcAddress) out += `;received=${srcAddress}`;
  return out + via.rest;
}
