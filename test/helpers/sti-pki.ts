/**
 * A STIR/SHAKEN PKI made offline at test time with the openssl command line: an STI-CA root, an
 * intermediate, SP certificates carrying a TNAuthList (RFC 8226, encoded by openssl's ASN1 config
 * syntax), and PASSporTs signed with jose. Nothing touches the network.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompactSign } from 'jose';

export interface Issued {
  /** PEM of the certificate. */
  cert: string;
  key: KeyObject;
  keyFile: string;
  certFile: string;
}

const CA_EXT = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n';

export class StiPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'rp-sti-pki-'));
  private n = 0;

  private openssl(args: string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  }

  private ecKey(name: string): string {
    const file = join(this.dir, `${name}.key`);
    this.openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file]);
    return file;
  }

  private issued(keyFile: string, certFile: string): Issued {
    return { cert: readFileSync(certFile, 'utf8'), key: createPrivateKey(readFileSync(keyFile)), keyFile, certFile };
  }

  /** A self-signed STI-CA root. */
  root(name = 'STI-CA root'): Issued {
    const id = `root${this.n++}`;
    const key = this.ecKey(id);
    const conf = join(this.dir, `${id}.cnf`);
    writeFileSync(conf, `[req]\ndistinguished_name=dn\n[dn]\n[v3]\n${CA_EXT}`);
    const cert = join(this.dir, `${id}.pem`);
    this.openssl(['req', '-new', '-x509', '-key', key, '-subj', `/CN=${name}`, '-days', '3650', '-config', conf, '-extensions', 'v3', '-out', cert]);
    return this.issued(key, cert);
  }

  /**
   * A certificate signed by `issuer`: a CA (intermediate) or an SP leaf. `tnAuthList` is the body of
   * the openssl ASN1 section that encodes its TNAuthList, and any sections it refers to, e.g.
   * "spc=EXPLICIT:0,IA5STRING:1234"; without it the leaf has no TNAuthList.
   */
  issue(issuer: Issued, opts: { cn: string; ca?: boolean; tnAuthList?: string; days?: number; rsa?: boolean; san?: string }): Issued {
    const id = `c${this.n++}`;
    let key: string;
    if (opts.rsa === true) {
      key = join(this.dir, `${id}.key`);
      this.openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', key]);
    } else key = this.ecKey(id);
    const csr = join(this.dir, `${id}.csr`);
    this.openssl(['req', '-new', '-key', key, '-subj', `/CN=${opts.cn}`, '-config', '/dev/null', '-out', csr]);
    let ext = opts.ca === true ? `[v3]\n${CA_EXT}` : '[v3]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n';
    ext += 'authorityKeyIdentifier=keyid\n';
    if (opts.san !== undefined) ext += `subjectAltName=${opts.san}\n`;
    if (opts.tnAuthList !== undefined) ext += `1.3.6.1.5.5.7.1.26=ASN1:SEQUENCE:tnal\n[tnal]\n${opts.tnAuthList}\n`;
    const extFile = join(this.dir, `${id}.ext`);
    writeFileSync(extFile, ext);
    const cert = join(this.dir, `${id}.pem`);
    this.openssl(['x509', '-req', '-in', csr, '-CA', issuer.certFile, '-CAkey', issuer.keyFile, '-CAcreateserial',
      '-days', String(opts.days ?? 365), '-extfile', extFile, '-extensions', 'v3', '-out', cert]);
    return this.issued(key, cert);
  }

  /** A file under the provisioned-certificate directory laid out as the x5u's host/path. */
  provision(root: string, url: string, pem: string): void {
    const u = new URL(url);
    const file = join(root, u.host, ...u.pathname.split('/').filter((s) => s !== ''));
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, pem);
  }

  /** A CRL signed by `issuer` listing `revoked` (openssl ca), as PEM (or DER) in a new file; returns its path. */
  crl(issuer: Issued, revoked: readonly Issued[], opts: { der?: boolean } = {}): string {
    const id = `crl${this.n++}`;
    const conf = join(this.dir, `${id}.cnf`);
    writeFileSync(join(this.dir, `${id}.index`), '');
    writeFileSync(join(this.dir, `${id}.number`), '01\n');
    writeFileSync(conf, `[ca]\ndefault_ca=d\n[d]\ndatabase=${id}.index\ndefault_md=sha256\ncrlnumber=${id}.number\ndefault_crl_days=30\n`);
    const sign = ['-config', conf, '-keyfile', issuer.keyFile, '-cert', issuer.certFile];
    for (const r of revoked) this.openssl(['ca', ...sign, '-revoke', r.certFile]);
    const pem = join(this.dir, `${id}.pem`);
    this.openssl(['ca', ...sign, '-gencrl', '-out', pem]);
    if (opts.der !== true) return pem;
    const der = join(this.dir, `${id}.der`);
    this.openssl(['crl', '-in', pem, '-outform', 'DER', '-out', der]);
    return der;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface PassportClaims {
  attest?: string;
  orig?: unknown;
  dest?: unknown;
  iat?: unknown;
  origid?: unknown;
}

/** A SHAKEN PASSporT (full form JWS) signed with `key`, and the Identity header value that carries it. */
export async function signPassport(key: KeyObject, x5u: string, claims: PassportClaims, header: Record<string, unknown> = {}): Promise<string> {
  const payload = {
    attest: 'A', orig: { tn: '15551230001' }, dest: { tn: ['15550100001'] }, iat: Math.floor(Date.now() / 1000),
    origid: '123e4567-e89b-12d3-a456-426655440000', ...claims,
  };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'ES256', typ: 'passport', ppt: 'shaken', x5u, ...header })
    .sign(key);
}

export function identityHeader(token: string, x5u: string): string {
  return `${token};info=<${x5u}>;alg=ES256;ppt=shaken`;
}
