import { NO_PARAMS, ParamList, type Params } from './param-list.js';
import { parseUri, type SipUri } from './sip-uri.js';

/**
 * One From/To/P-Asserted-Identity/Remote-Party-ID value: `"Name" <uri>;params`, `Name <uri>`, or a
 * bare addr-spec `sip:user@host;tag=x` (whose ";" parameters are header parameters, RFC 3261
 * §20.10). Never throws; undefined when the value holds no sip/sips/tel URI.
 */
export interface NameAddr {
  /** Display name, unquoted and unescaped; undefined when absent or empty. */
  displayName: string | undefined;
  uri: SipUri;
  /** Header parameters after the URI (tag, party, privacy, screen, verstat…). */
  params: Params;
}

/** Reads a quoted-string starting at `start` (on the opening quote); returns its text and end index. */
function readQuoted(s: string, start: number): { text: string; end: number } | undefined {
  let text = '';
  for (let i = start + 1; i < s.length; i++) {
    const c = s[i] as string;
    if (c === '\\') {
      if (i + 1 >= s.length) return undefined;
      text += s[++i];
    } else if (c === '"') {
      return { text, end: i + 1 };
    } else {
      text += c;
    }
  }
  return undefined;
}

export function parseNameAddr(value: string): NameAddr | undefined {
  if (typeof value !== 'string' || value.length > 4096) return undefined;
  const s = value.trim();
  if (s === '') return undefined;

  let displayName: string | undefined;
  let lt: number;
  if (s.charCodeAt(0) === 0x22) {
    const q = readQuoted(s, 0);
    if (q === undefined) return undefined;
    displayName = q.text.trim();
    lt = s.indexOf('<', q.end);
    if (lt < 0 || s.slice(q.end, lt).trim() !== '') return undefined;
  } else {
    lt = s.indexOf('<');
    if (lt > 0) displayName = s.slice(0, lt).trim();
  }
  if (displayName === '') displayName = undefined;

  let uriText: string;
  let paramText: string;
  if (lt >= 0) {
    const gt = s.indexOf('>', lt + 1);
    if (gt < 0) return undefined;
    uriText = s.slice(lt + 1, gt);
    paramText = s.slice(gt + 1).trim();
    if (paramText !== '' && paramText.charCodeAt(0) !== 0x3b) return undefined;
  } else {
    // addr-spec: parameters start at the first ";" after the host, i.e. after any "@".
    const at = s.indexOf('@');
    const semi = s.indexOf(';', at < 0 ? 0 : at);
    uriText = semi < 0 ? s : s.slice(0, semi);
    paramText = semi < 0 ? '' : s.slice(semi);
    if (/\s/.test(uriText)) return undefined;
  }
  const uri = parseUri(uriText);
  if (uri === undefined) return undefined;
  return { displayName, uri, params: paramText === '' ? NO_PARAMS : new ParamList(paramText) };
}
