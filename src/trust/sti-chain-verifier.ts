import type { X509Certificate } from 'node:crypto';
import { importX509 } from 'jose';
import type { CallerTrustReason } from './caller-trust-types.js';
import { certificateId } from './certificate-id.js';
import { readTnAuthList, type TnAuthList } from './tn-auth-list.js';

/** The key type jose verifies with (a WebCrypto CryptoKey). */
export type PassportKey = Awaited<ReturnType<typeof importX509>>;

/** Intermediates allowed between the SP certificate and an STI-CA anchor. */
const MAX_INTERMEDIATES = 4;

/** An SP certificate whose chain ends at a trust anchor, ready to verify PASSporTs. */
export interface StiCertificate {
  /** The leaf's public key, imported once for ES256 verification. */
  key: PassportKey;
  tnAuthList: TnAuthList;
  subject: string;
  issuer: string;
  /** Epoch ms window in which every certificate of the path is valid (the PASSporT's iat must fall in it). */
  validFromMs: number;
  validToMs: number;
  /** The leaf's own notAfter, epoch ms. */
  notAfterMs: number;
  /** certificateId of every certificate of the path (leaf, intermediates, anchor), for CRL checks. */
  pathIds: readonly string[];
}

export type ChainCheck =
  | { ok: true; cert: StiCertificate }
  | { ok: false; reason: CallerTrustReason; detail: string };

function validity(c: X509Certificate): [number, number] {
  return [Date.parse(c.validFrom), Date.parse(c.validTo)];
}

function oneLine(dn: string): string {
  return dn.split('\n').filter((s) => s !== '').join(', ');
}

/**
 * Chains SP certificates to the configured STI-CA trust anchors with node:crypto (OpenSSL):
 * X509Certificate.checkIssued for names, key identifiers and keyCertSign, verify() for each signature.
 * Validity is not judged here but returned as a window, so one cached result serves every iat.
 * Revocation is checked per verification against the current CRLs (see RevocationList), by the
 * path's certificate ids kept here, so a cached chain never outlives a revocation.
 */
export class StiChainVerifier {
  constructor(private readonly anchors: readonly X509Certificate[]) {}

  get anchorCount(): number {
    return this.anchors.length;
  }

  async check(chain: readonly X509Certificate[]): Promise<ChainCheck> {
    const leaf = chain[0];
    if (leaf === undefined) return { ok: false, reason: 'certificate_invalid', detail: 'no certificate' };
    const key = leaf.publicKey;
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      return { ok: false, reason: 'certificate_invalid', detail: 'the signing key is not an EC P-256 key' };
    }
    if (leaf.ca) return { ok: false, reason: 'certificate_invalid', detail: 'the signing certificate is a CA certificate' };
    let tnAuthList: TnAuthList | undefined;
    try {
      tnAuthList = readTnAuthList(leaf.raw);
    } catch {
      return { ok: false, reason: 'certificate_invalid', detail: 'the certificate or its TNAuthList does not decode' };
    }
    if (tnAuthList === undefined) {
      return { ok: false, reason: 'tn_auth_list_missing', detail: 'the certificate has no TNAuthList (1.3.6.1.5.5.7.1.26)' };
    }
    let [from, to] = validity(leaf);
    let current = leaf;
    const path = [leaf];
    const rest = chain.slice(1);
    for (let depth = 0; ; depth++) {
      const anchor = this.anchors.find((a) => current.checkIssued(a) && current.verify(a.publicKey));
      if (anchor !== undefined) {
        const [af, at] = validity(anchor);
        from = Math.max(from, af);
        to = Math.min(to, at);
        path.push(anchor);
        break;
      }
      if (depth === MAX_INTERMEDIATES) {
        return { ok: false, reason: 'certificate_untrusted', detail: `no trust anchor within ${MAX_INTERMEDIATES} intermediates` };
      }
      const issuer = rest.find((c) => c !== current && c.ca && current.checkIssued(c) && current.verify(c.publicKey));
      if (issuer === undefined) {
        return { ok: false, reason: 'certificate_untrusted', detail: 'the chain does not lead to a configured STI-CA trust anchor' };
      }
      const [f, t] = validity(issuer);
      from = Math.max(from, f);
      to = Math.min(to, t);
      current = issuer;
      path.push(issuer);
    }
    if (!(from <= to)) return { ok: false, reason: 'certificate_expired', detail: 'the certificate path has no common validity period' };
    let imported: PassportKey;
    try {
      imported = await importX509(leaf.toString(), 'ES256');
    } catch {
      return { ok: false, reason: 'certificate_invalid', detail: 'the signing key cannot be used for ES256' };
    }
    return {
      ok: true,
      cert: {
        key: imported,
        tnAuthList,
        subject: oneLine(leaf.subject),
        issuer: oneLine(leaf.issuer),
        validFromMs: from,
        validToMs: to,
        notAfterMs: validity(leaf)[1],
        // node:crypto already decoded each of them: these cannot throw.
        pathIds: path.map((c) => certificateId(c.raw)),
      },
    };
  }
}
