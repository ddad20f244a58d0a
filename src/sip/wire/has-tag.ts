import { isTrimSpace, lowerEquals } from './sip-chars.js';

/** True when the To (or From) header value already carries a tag parameter. */
export function hasTag(nameAddr: string): boolean {
  // The last ">" from the end by hand: String#lastIndexOf is a runtime call in V8, and header
  // parameters are short, so the loop stops after a few characters.
  let close = nameAddr.length - 1;
  while (close >= 0 && nameAddr.charCodeAt(close) !== 0x3e) close--;
  return hasTagParam(nameAddr, close === -1 ? 0 : close);
}

/**
 * /;\s*tag\s*=/i.test(s.slice(from)) by index: it ran twice per INVITE (the in-dialog check and
 * the response's To). Within latin1, \s is what isTrimSpace names.
 */
function hasTagParam(s: string, from: number): boolean {
  const len = s.length;
  for (let i = s.indexOf(';', from); i !== -1; i = s.indexOf(';', i + 1)) {
    let j = i + 1;
    while (j < len && isTrimSpace(s.charCodeAt(j))) j++;
    if (j + 3 > len || !lowerEquals(s, j, 'tag')) continue;
    j += 3;
    while (j < len && isTrimSpace(s.charCodeAt(j))) j++;
    if (j < len && s.charCodeAt(j) === 0x3d) return true;
  }
  return false;
}
