import { verify as verifySignature, type X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificateIssuer, CertificateList, id_ce_certificateIssuer } from '@peculiar/asn1-x509';
import type { Logger } from '../log/logger.js';
import { certificateIdOf, nameDerHex } from './certificate-id.js';

/** An STI-PA CRL lists revoked SP certificates: thousands at most; this bounds a wrong file. */
const MAX_CRL_BYTES = 16 * 1024 * 1024;
const PEM_CRL = /-----BEGIN X509 CRL-----([A-Za-z0-9+/=\s]+?)-----END X509 CRL-----/g;

/** Signature algorithms of CRLs: OID → the hash node:crypto verifies with (ECDSA and RSA PKCS#1 v1.5). */
const HASH_OF: Readonly<Record<string, string>> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
};

export interface RevocationCheck {
  /** True when any certificate of a path (by certificateId) is on a loaded CRL. */
  isRevoked(ids: readonly string[]): boolean;
}

export interface RevocationListOptions {
  /** CRL files (PEM "X509 CRL" blocks or one DER CRL each), e.g. the STI-PA's, fetched by the operator. */
  files: readonly string[];
  /** Certificates whose keys may sign a CRL (the STI-PA's, and the trust anchors). */
  signers: readonly X509Certificate[];
  logger: Logger;
  clock?: () => number;
}

interface Loaded {
  revoked: Set<string>;
  /** Earliest nextUpdate over the files, epoch ms (Infinity when none says). */
  nextUpdateMs: number;
  mtimes: number[];
}

/**
 * The revoked certificates of the configured CRLs, as a set of certificate ids. Loaded once at start
 * (a file that cannot be read, decoded or whose signature does not verify stops the start), then
 * re-read by refresh() when a file changed; a bad new file is logged and the previous list kept.
 * A CRL past its nextUpdate is still applied (what it revokes stays revoked) and logged, since a
 * stale list refuses more than none. Nothing here touches the network or the SIP path.
 */
export class RevocationList implements RevocationCheck {
  private loaded: Loaded;
  private readonly clock: () => number;
  private lastStaleLog = 0;

  constructor(private readonly opts: RevocationListOptions) {
    this.clock = opts.clock ?? Date.now;
    this.loaded = this.load();
  }

  get size(): number {
    return this.loaded.revoked.size;
  }

  get nextUpdateMs(): number {
    return this.loaded.nextUpdateMs;
  }

  isRevoked(ids: readonly string[]): boolean {
    const revoked = this.loaded.revoked;
    if (revoked.size === 0) return false;
    for (const id of ids) if (revoked.has(id)) return true;
    return false;
  }

  /** Re-reads the files when one changed; returns 'unchanged', 'reloaded' or 'failed' (old list kept). */
  refresh(): 'unchanged' | 'reloaded' | 'failed' {
    let changed = false;
    try {
      changed = this.opts.files.some((f, i) => statSync(f).mtimeMs !== this.loaded.mtimes[i]);
    } catch {
      changed = true;
    }
    let result: 'unchanged' | 'reloaded' | 'failed' = 'unchanged';
    if (changed) {
      try {
        this.loaded = this.load();
        result = 'reloaded';
        this.opts.logger.info({ revoked: this.loaded.revoked.size }, 'STIR/SHAKEN CRL reloaded');
      } catch (err) {
        result = 'failed';
        this.opts.logger.warn({ err: (err as Error).message }, 'STIR/SHAKEN CRL: the new file is refused; the previous list stays in force');
      }
    }
    const now = this.clock();
    if (now > this.loaded.nextUpdateMs && now - this.lastStaleLog > 3_600_000) {
      this.lastStaleLog = now;
      this.opts.logger.warn({ nextUpdate: new Date(this.loaded.nextUpdateMs).toISOString() }, 'STIR/SHAKEN CRL is past its nextUpdate: still applied; fetch a new one');
    }
    return result;
  }

  private load(): Loaded {
    const revoked = new Set<string>();
    const mtimes: number[] = [];
    let nextUpdateMs = Number.POSITIVE_INFINITY;
    for (const file of this.opts.files) {
      mtimes.push(statSync(file).mtimeMs);
      const body = readFileSync(file);
      if (body.length > MAX_CRL_BYTES) throw new Error(`${file}: larger than ${MAX_CRL_BYTES} bytes`);
      for (const der of crlBlocks(body, file)) {
        let crl: CertificateList;
        try {
          crl = AsnConvert.parse(der, CertificateList);
        } catch {
          throw new Error(`${file}: a CRL does not decode`);
        }
        if (!this.signedByASigner(crl)) throw new Error(`${file}: no configured signer (STI-PA certificate or trust anchor) signed this CRL`);
        const next = crl.tbsCertList.nextUpdate?.getTime().getTime();
        if (next !== undefined) nextUpdateMs = Math.min(nextUpdateMs, next);
        // RFC 5280 §5.3.3: an entry's certificateIssuer names the issuer of it and of the entries after it.
        let issuer = nameDerHex(crl.tbsCertList.issuer);
        for (const entry of crl.tbsCertList.revokedCertificates ?? []) {
          const ext = entry.crlEntryExtensions?.find((e) => e.extnID === id_ce_certificateIssuer);
          if (ext !== undefined) {
            const dn = AsnConvert.parse(ext.extnValue, CertificateIssuer).find((g) => g.directoryName !== undefined)?.directoryName;
            if (dn !== undefined) issuer = nameDerHex(dn);
          }
          revoked.add(certificateIdOf(issuer, entry.userCertificate));
        }
      }
    }
    return { revoked, nextUpdateMs, mtimes };
  }

  private signedByASigner(crl: CertificateList): boolean {
    const hash = HASH_OF[crl.signatureAlgorithm.algorithm];
    // The signed bytes as they are in the file (asn1-schema keeps them): a re-encoding need not match.
    if (hash === undefined || crl.tbsCertListRaw === undefined) return false;
    const tbs = Buffer.from(crl.tbsCertListRaw);
    const signature = Buffer.from(crl.signature);
    return this.opts.signers.some((s) => {
      try {
        return verifySignature(hash, tbs, s.publicKey, signature);
      } catch {
        return false;
      }
    });
  }
}

/** The DER CRLs of a file: PEM blocks, or the whole file as one DER CRL. */
function crlBlocks(body: Buffer, file: string): Uint8Array[] {
  const text = body.toString('latin1');
  if (!text.includes('-----BEGIN')) return [body];
  const blocks = [...text.matchAll(PEM_CRL)].map((m) => Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64'));
  if (blocks.length === 0) throw new Error(`${file}: no "X509 CRL" PEM block`);
  return blocks;
}
