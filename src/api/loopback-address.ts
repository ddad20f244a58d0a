import { isIP } from 'node:net';

/**
 * True for 127.0.0.0/8, ::1 and their IPv4-mapped IPv6 forms (::ffff:127.x.x.x), which is how a
 * dual-stack socket reports an IPv4 loopback peer.
 */
export function isLoopbackAddress(ip: string | undefined): boolean {
  if (!ip) return false;
  let addr = ip.trim().toLowerCase();
  // Zone ids ("::1%lo") never appear on loopback in practice, but must not defeat the check.
  const zone = addr.indexOf('%');
  if (zone >= 0) addr = addr.slice(0, zone);
  if (addr.startsWith('::ffff:')) {
    const tail = addr.slice(7);
    if (isIP(tail) === 4) addr = tail;
  }
  const family = isIP(addr);
  if (family === 4) return addr.startsWith('127.');
  if (family === 6) return isIpv6Loopback(addr);
  return false;
}

function isIpv6Loopback(addr: string): boolean {
  if (addr === '::1') return true;
  // Long forms such as 0:0:0:0:0:0:0:1 or 0000::0001.
  const halves = addr.split('::');
  if (halves.length > 2) return false;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const groups = halves.length === 2 ? [...head, ...Array(8 - head.length - tail.length).fill('0'), ...tail] : head;
  if (groups.length !== 8) return false;
  return groups.every((g, i) => parseInt(g, 16) === (i === 7 ? 1 : 0));
}
