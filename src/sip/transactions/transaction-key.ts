import { detachString } from '../../v8/detach-string.js';
import { isRfc3261Branch, type SipMessage, type TopVia } from '../wire/index.js';

const FROM_TAG = /;\s*tag\s*=\s*([^;\s]+)/i;

/** A concatenation flattened into one new string (see detach-string.ts). */
const flatKey = detachString;

/**
 * RFC 3261 §17.2.3 server transaction matching key; RFC 2543 peers (no magic cookie) by Call-ID,
 * CSeq number and From tag. Flat (not a rope), so the Map lookups that use it hash it once and
 * a transaction can keep it without keeping the datagram's text alive.
 */
export function transactionKey(top: TopVia, msg: SipMessage): string {
  const key = rfc3261Key(top);
  if (key !== undefined) return key;
  const fromTag = msg.from === undefined ? '' : (FROM_TAG.exec(msg.from)?.[1] ?? '');
  return flatKey(`2543|${msg.callId}|${msg.cseqNum}|${fromTag}|${top.host}:${top.port ?? ''}`);
}

/** The RFC 3261 key (branch and sent-by), or undefined when the branch has no cookie. */
export function rfc3261Key(top: TopVia): string | undefined {
  return isRfc3261Branch(top.branch) ? flatKey(`${top.branch}|${top.host}:${top.port ?? ''}`) : undefined;
}
