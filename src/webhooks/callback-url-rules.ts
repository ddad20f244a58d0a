import { isIP } from 'node:net';
import { checkUrlTarget, isLocalhostName } from '../egress/assert-public-url.js';
import type { EgressPolicy, EgressRefusal } from '../egress/egress-policy.js';
import { bareAddress, classifyAddress } from '../egress/egress-ranges.js';

export type CallbackUrlCheck =
  | { ok: true; url: URL }
  /** `problem` completes a sentence whose subject is the URL's name ("callbackUrl must ..."). */
  | { ok: false; problem: string; refusal?: EgressRefusal };

function isLoopbackHost(hostname: string): boolean {
  const host = bareAddress(hostname);
  if (isLocalhostName(host)) return true;
  return isIP(host) !== 0 && classifyAddress(host) === 'loopback';
}

/**
 * The one rule for where webhooks may go, for a verification's callbackUrl and for
 * webhooks.defaultUrl alike:
 * - https, because webhooks carry phone numbers; plain http only to a loopback host, so local
 *   development needs no certificate;
 * - no credentials in the URL: they would be stored and echoed back in clear;
 * - no destination the egress policy refuses, as far as the text shows (an IP literal in any
 *   spelling, or a localhost name). Names are checked again on every connection.
 */
export function checkCallbackUrl(text: string, policy: EgressPolicy): CallbackUrlCheck {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, problem: 'must be an absolute http(s) URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { ok: false, problem: 'must use https (or http to a loopback host)' };
  }
  if (url.username !== '' || url.password !== '') return { ok: false, problem: 'must not contain credentials' };
  const refusal = checkUrlTarget(url, policy);
  if (refusal) return { ok: false, problem: `must not point at ${refusal.message}`, refusal };
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    return { ok: false, problem: 'must use https unless the host is loopback (localhost, 127.0.0.1, [::1])' };
  }
  return { ok: true, url };
}
