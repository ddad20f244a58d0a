/**
 * The BullMQ `prefix` for a configured key prefix. On Redis Cluster every key a BullMQ script
 * touches must live in one hash slot, so the prefix must carry a hash tag: "ringproof" becomes
 * "{ringproof}"; a prefix that already has a non-empty {tag} is kept as is. BullMQ appends
 * ":queueName:…" itself, so a trailing ":" is dropped.
 */
export function bullmqPrefix(keyPrefix: string): string {
  let p = keyPrefix.trim().replace(/:+$/, '');
  if (p === '') p = 'ringproof';
  if (hasHashTag(p)) return p;
  return `{${p.replace(/[{}]/g, '')}}`;
}

/** Redis hashes the text between the first "{" and the next "}" when that text is non-empty. */
function hasHashTag(key: string): boolean {
  const open = key.indexOf('{');
  if (open === -1) return false;
  const close = key.indexOf('}', open + 1);
  return close > open + 1;
}
