const TAG_PARAM = /;\s*tag\s*=/i;

/** True when the To (or From) header value already carries a tag parameter. */
export function hasTag(nameAddr: string): boolean {
  // The last ">" from the end by hand: String#lastIndexOf is a runtime call in V8, and header
  // parameters are short, so the loop stops after a few characters.
  let close = nameAddr.length - 1;
  while (close >= 0 && nameAddr.charCodeAt(close) !== 0x3e) close--;
  return TAG_PARAM.test(close === -1 ? nameAddr : nameAddr.slice(close));
}
