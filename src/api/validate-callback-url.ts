import { isIP } from 'node:net';
import { validationError } from './api-request-error.js';
import { isLoopbackAddress } from './loopback-address.js';

/**
 * Callback URLs must be https, because webhooks carry phone numbers; plain http is accepted only
 * for loopback hosts (localhost, 127.0.0.0/8, [::1]) so local development needs no certificate.
 * Credentials in the URL are refused: they would be stored and echoed back in clear.
 * Returns the URL as the WHATWG parser serializes it.
 */
export function validateCallbackUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw validationError('body/callbackUrl must be an absolute http(s) URL', 'callbackUrl');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw validationError('body/callbackUrl must use https (or http to a loopback host)', 'callbackUrl');
  }
  if (url.username !== '' || url.password !== '') {
    throw validationError('body/callbackUrl must not contain credentials', 'callbackUrl');
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw validationError('body/callbackUrl must use https unless the host is loopback (localhost, 127.0.0.1, [::1])', 'callbackUrl');
  }
  return url.href;
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return isIP(host) !== 0 && isLoopbackAddress(host);
}
