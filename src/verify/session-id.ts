import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 base32, lower case, unpadded: ids stay short, case-insensitive and URL-safe. */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** 128 random bits: ids are capabilities for GET/DELETE, so they must not be guessable. */
export function newVerificationId(): string {
  return 'vrf_' + base32(randomBytes(16));
}

/** Ids come from URLs; anything else is refused before it can shape a Redis key. */
const ID_SHAPE = /^[A-Za-z0-9_-]{1,64}$/;

export function isPlausibleId(id: string): boolean {
  return ID_SHAPE.test(id);
}
