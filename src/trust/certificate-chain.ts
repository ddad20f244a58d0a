import { X509Certificate } from 'node:crypto';

/** Largest certificate file or x5u body we parse; a SHAKEN chain of three is ~3 KB in PEM. */
export const DEFAULT_MAX_CHAIN_BYTES = 64 * 1024;
/** Most certificates in one x5u resource (leaf + intermediates). */
export const MAX_CHAIN_CERTS = 8;

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/g;

/**
 * The certificates of an x5u resource or a provisioned file: PEM blocks (leaf first, as SHAKEN's
 * application/pem-certificate-chain orders them), or one DER certificate. Throws with a short
 * reason on anything else; node:crypto (OpenSSL) does the X.509 decoding.
 */
export function parseCertificateChain(body: Uint8Array, maxBytes = DEFAULT_MAX_CHAIN_BYTES, maxCerts = MAX_CHAIN_CERTS): X509Certificate[] {
  if (body.length === 0) throw new Error('empty certificate resource');
  if (body.length > maxBytes) throw new Error(`certificate resource larger than ${maxBytes} bytes`);
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1');
  if (!text.includes('-----BEGIN')) return [new X509Certificate(Buffer.from(body))];
  const certs: X509Certificate[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    if (certs.length === maxCerts) throw new Error(`more than ${maxCerts} certificates`);
    certs.push(new X509Certificate(Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64')));
  }
  if (certs.length === 0) throw new Error('no PEM certificate found');
  return certs;
}
