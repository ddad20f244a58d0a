/**
 * Splits a header value at commas that separate values (RFC 3261 §7.3.1), ignoring commas inside
 * quoted strings and <...> URIs, e.g. two name-addrs in one P-Asserted-Identity line.
 */
export function splitHeaderValues(value: string): string[] {
  if (value.indexOf(',') === -1) return [value];
  const out: string[] = [];
  let inQuote = false;
  let inAngle = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value.charCodeAt(i);
    if (inQuote) {
      if (ch === 0x5c) i++; // backslash escape inside quotes
      else if (ch === 0x22) inQuote = false;
    } else if (ch === 0x22) inQuote = true;
    else if (ch === 0x3c) inAngle = true;
    else if (ch === 0x3e) inAngle = false;
    else if (ch === 0x2c && !inAngle) {
      const part = value.slice(start, i).trim();
      if (part) out.push(part);
      start = i + 1;
    }
  }
  const last = value.slice(start).trim();
  if (last) out.push(last);
  return out;
}
