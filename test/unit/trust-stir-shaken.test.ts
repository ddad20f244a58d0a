/**
 * The STIR/SHAKEN verifier with a PKI made at test time (openssl) and PASSporTs signed with jose:
 * every check the issue lists, each mapped to its RFC 8224 reason; certificates from a provisioned
 * directory or fetched over https from a loopback server; replay memory in-process and in a real
 * redis-server. No network beyond loopback.
 */
import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { copyFileSync, utimesSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { DEFAULT_CALLER_TRUST_POLICY } from '../../src/trust/caller-trust-policy.js';
import { createCallerTrustMetrics } from '../../src/trust/caller-trust-metrics.js';
import { HttpsX5uFetcher } from '../../src/trust/https-x5u-fetcher.js';
import { RedisReplayStore } from '../../src/trust/redis-replay-store.js';
import { MemoryReplayStore } from '../../src/trust/replay-store.js';
import { RevocationList } from '../../src/trust/revocation-list.js';
import { createIdentityVerifier } from '../../src/trust/identity-verifier-setup.js';
import { createLogger } from '../../src/log/logger.js';
import { StiCertificateCache } from '../../src/trust/sti-certificate-cache.js';
import { StiChainVerifier } from '../../src/trust/sti-chain-verifier.js';
import type { StirShakenInput } from '../../src/trust/stir-shaken-types.js';
import { StirShakenVerifier } from '../../src/trust/stir-shaken-verifier.js';
import { identityHeader, signPassport, StiPki, type Issued, type PassportClaims } from '../helpers/sti-pki.js';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';

const CLI = '+15551230001';
const DID = '+15550100001';
const X5U = 'https://cr.example.net/sti/sp.pem';
const LIMITS = { maxBytes: 64 * 1024, timeoutMs: 2000 };

let pki: StiPki;
let root: Issued;
let inter: Issued;
let sp: Issued;
let certDir: string;
const urls: Record<string, string> = {};
let delegate: Issued;

function provision(name: string, ...chain: Issued[]): string {
  const url = `https://cr.example.net/sti/${name}.pem`;
  pki.provision(certDir, url, chain.map((c) => c.cert).join(''));
  urls[name] = url;
  return url;
}

beforeAll(() => {
  pki = new StiPki();
  certDir = `${pki.dir}/provisioned`;
  root = pki.root();
  inter = pki.issue(root, { cn: 'STI intermediate', ca: true });
  sp = pki.issue(inter, { cn: 'SHAKEN 1234', tnAuthList: 'spc=EXPLICIT:0,IA5STRING:1234' });
  pki.provision(certDir, X5U, sp.cert + inter.cert);
  provision('no-tnal', pki.issue(inter, { cn: 'no TNAuthList' }), inter);
  delegate = pki.issue(inter, {
    cn: 'delegate', tnAuthList: 'r=EXPLICIT:1,SEQUENCE:rng\n[rng]\nstart=IA5STRING:15559990000\ncount=INTEGER:100',
  });
  provision('tn-list', delegate, inter);
  const otherRoot = pki.root('rogue CA');
  provision('untrusted', pki.issue(otherRoot, { cn: 'rogue SP', tnAuthList: 'spc=EXPLICIT:0,IA5STRING:6666' }), otherRoot);
  provision('rsa', pki.issue(inter, { cn: 'RSA SP', rsa: true, tnAuthList: 'spc=EXPLICIT:0,IA5STRING:1234' }), inter);
  provision('leaf-only', sp);
  pki.provision(certDir, 'https://cr.example.net/sti/garbage.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
}, 60_000);

afterAll(() => pki?.remove());

function verifier(opts: { certificates?: StiCertificateCache | null; replay?: MemoryReplayStore | RedisReplayStore; clock?: () => number; registry?: Registry; revocations?: RevocationList } = {}): StirShakenVerifier {
  const certificates = opts.certificates === null ? undefined : opts.certificates ?? new StiCertificateCache({
    verifier: new StiChainVerifier([new X509Certificate(root.cert)]), certificateDir: certDir, limits: LIMITS,
    maxEntries: 100, ttlMs: 3_600_000, negativeTtlMs: 1000, ...(opts.clock ? { clock: opts.clock } : {}),
  });
  return new StirShakenVerifier({
    policy: DEFAULT_CALLER_TRUST_POLICY, certificates, replay: opts.replay ?? new MemoryReplayStore(1000),
    maxAgeMs: 60_000, futureSkewMs: 5_000, ...(opts.registry ? { metrics: createCallerTrustMetrics(opts.registry) } : {}),
    ...(opts.revocations ? { revocations: opts.revocations } : {}),
  });
}

let seq = 0;
function input(identity: string | null, over: Partial<StirShakenInput> = {}): StirShakenInput {
  return { callId: `call-${seq++}`, cli: CLI, did: DID, verstat: null, identity, receivedAt: Date.now(), ...over };
}

async function identity(claims: PassportClaims = {}, opts: { key?: Issued['key']; x5u?: string; header?: Record<string, unknown> } = {}): Promise<string> {
  const x5u = opts.x5u ?? X5U;
  return identityHeader(await signPassport(opts.key ?? sp.key, x5u, claims, opts.header), x5u);
}

describe('StirShakenVerifier', () => {
  it('a valid PASSporT passes: attestation, origid and the certificate SPC in the verdict', async () => {
    const registry = new Registry();
    const v = await verifier({ registry }).verify(input(await identity({ attest: 'B' })));
    expect(v).toMatchObject({
      v: 1, result: 'pass', verifies: true, outcome: null, identity: 'valid', attest: 'B', verstat: 'absent',
      origid: '123e4567-e89b-12d3-a456-426655440000', failure: null,
    });
    expect(v.certificate).toMatchObject({ spc: '1234', subject: 'CN=SHAKEN 1234', issuer: 'CN=STI intermediate' });
    const m = (await registry.getSingleMetric('ringproof_caller_trust_verdicts_total')!.get()).values;
    expect(m).toEqual([expect.objectContaining({ labels: { result: 'pass', reason: 'none', verifies: 'true' }, value: 1 })]);
  });

  it.each([
    ['signed with another key', 'signature_invalid', 438, async () => identity({}, { key: createPrivateKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' })) })],
    ['orig.tn is not the caller ID', 'orig_mismatch', 438, async () => identity({ orig: { tn: '15551239999' } })],
    ['the DID is not in dest.tn', 'dest_mismatch', 438, async () => identity({ dest: { tn: ['15550100009'] } })],
    ['iat two minutes old', 'stale', 403, async () => identity({ iat: Math.floor(Date.now() / 1000) - 120 })],
    ['iat a minute in the future', 'future', 403, async () => identity({ iat: Math.floor(Date.now() / 1000) + 60 })],
    ['attest D', 'claims_invalid', 438, async () => identity({ attest: 'D' })],
    ['no origid', 'claims_invalid', 438, async () => identity({ origid: '' })],
    ['ppt div', 'ppt_unsupported', 438, async () => identity({}, { header: { ppt: 'div' } })],
    ['x5u over http', 'x5u_invalid', 436, async () => identity({}, { x5u: 'http://cr.example.net/sti/sp.pem' })],
    ['x5u with a query', 'x5u_invalid', 436, async () => identity({}, { x5u: `${X5U}?u=http://169.254.169.254/` })],
    ['x5u with credentials', 'x5u_invalid', 436, async () => identity({}, { x5u: 'https://u:p@cr.example.net/sti/sp.pem' })],
    ['x5u not provisioned, no fetcher', 'certificate_unavailable', 436, async () => identity({}, { x5u: 'https://cr.example.net/sti/unknown.pem' })],
    ['a certificate from another CA', 'certificate_untrusted', 437, async () => identity({}, { x5u: urls.untrusted })],
    ['a certificate without TNAuthList', 'tn_auth_list_missing', 437, async () => identity({}, { x5u: urls['no-tnal'] })],
    ['a TN-list certificate that does not cover orig.tn', 'tn_not_authorized', 437, async () => identity({}, { x5u: urls['tn-list'], key: delegate.key })],
    ['an RSA certificate', 'certificate_invalid', 437, async () => identity({}, { x5u: urls.rsa })],
    ['the leaf without its intermediate', 'certificate_untrusted', 437, async () => identity({}, { x5u: urls['leaf-only'] })],
    ['an x5u resource that is not a certificate', 'certificate_invalid', 437, async () => identity({}, { x5u: 'https://cr.example.net/sti/garbage.pem' })],
  ] as const)('%s → %s (%i): the call never verifies', async (_name, reason, code, make) => {
    const v = await verifier().verify(input(await make()));
    expect(v).toMatchObject({ result: 'fail', verifies: false, outcome: 'caller_id_failed', identity: 'invalid', certificate: null });
    expect(v.failure).toMatchObject({ reason, code });
  });

  it('a TN-list certificate verifies a number in its range', async () => {
    const tok = await identity({ orig: { tn: '15559990042' } }, { x5u: urls['tn-list'], key: delegate.key });
    const v = await verifier().verify(input(tok, { cli: '+15559990042' }));
    expect(v.failure).toBeNull();
    expect(v).toMatchObject({ result: 'pass', verifies: true, certificate: { spc: null } });
  });

  it('malformed Identity headers: a counted verdict, never a throw', async () => {
    const huge = 'a'.repeat(5000) + '.' + 'b'.repeat(10) + '.c';
    const cases: Array<[string, string]> = [
      ['!!!;info=<https://x>', 'identity_malformed'],
      ['abc.def.ghi;info=<https://cr.example.net/sti/sp.pem>', 'passport_malformed'],
      [`${Buffer.from('{"alg":"ES256"').toString('base64url')}.${Buffer.from('[]').toString('base64url')}.sig`, 'passport_malformed'],
      ['abc..ghi;info=<https://x>', 'identity_compact_form'],
      [huge, 'identity_malformed'],
      ['a.b.c;info=https://no-brackets', 'identity_malformed'],
      ['a.b.c;alg=ES256;alg=ES256', 'identity_malformed'],
      [`${Buffer.from('{"alg":"none","ppt":"shaken"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.c`, 'alg_unsupported'],
      ['x'.repeat(20_000), 'identity_malformed'],
    ];
    const ver = verifier();
    for (const [value, reason] of cases) {
      const v = await ver.verify(input(value));
      expect(v.failure?.reason, value.slice(0, 40)).toBe(reason);
      expect(v.verifies).toBe(false);
    }
    // Not even a CallEvent: still a verdict (a non-text Identity is no Identity).
    const odd = await ver.verify({ identity: 42, receivedAt: 'soon', verstat: 7 } as unknown as StirShakenInput);
    expect(odd).toMatchObject({ identity: 'absent', verstat: 'absent', result: 'none' });
    const oddFailed = await ver.verify({ identity: 'a.b.c', verstat: 'TN-Validation-Failed' } as unknown as StirShakenInput);
    expect(oddFailed).toMatchObject({ verifies: false, identity: 'invalid' });
  });

  it('a PASSporT seen on one call is refused on another (403 replayed), not on a redelivery of the same call', async () => {
    const ver = verifier();
    const tok = await identity();
    const first = input(tok);
    expect((await ver.verify(first)).verifies).toBe(true);
    expect((await ver.verify({ ...first })).verifies).toBe(true);
    const replay = await ver.verify(input(tok));
    expect(replay).toMatchObject({ verifies: false, failure: { reason: 'replayed', code: 403, text: 'Stale Date' } });
  });

  it('attestation C passes by default and is refused under minAttestation B', async () => {
    const ver = verifier();
    expect(await ver.verify(input(await identity({ attest: 'C' })))).toMatchObject({ verifies: true, attest: 'C' });
    const strict = await ver.verify(input(await identity({ attest: 'C' }), { policy: { failed: 'reject', minAttestation: 'B', requireNetworkAsserted: false } }));
    expect(strict).toMatchObject({ result: 'pass', verifies: false, outcome: 'caller_id_attestation_low', failure: { reason: 'attestation_low' } });
  });

  it('verstat Failed next to a valid PASSporT fails; without an Identity the verstat decides', async () => {
    const ver = verifier();
    expect(await ver.verify(input(await identity(), { verstat: 'TN-Validation-Failed' })))
      .toMatchObject({ result: 'fail', verifies: false, failure: { reason: 'verstat_failed' } });
    expect(await ver.verify(input(null, { trust: 'passed-B', verstat: 'TN-Validation-Passed-B' })))
      .toMatchObject({ result: 'pass', identity: 'absent', attest: 'B', verifies: true });
    expect(await ver.verify(input(null, { verstat: 'TN-Validation-Failed' }))).toMatchObject({ result: 'fail', verifies: false });
  });

  it('without trust anchors an Identity is unchecked and proves nothing', async () => {
    const v = await verifier({ certificates: null }).verify(input(await identity({ attest: 'A' }), { policy: { failed: 'reject', minAttestation: 'C', requireNetworkAsserted: false } }));
    expect(v).toMatchObject({ identity: 'unchecked', result: 'none', verifies: false, outcome: 'caller_id_attestation_low' });
  });

  it('a certificate path that has expired by the time it is loaded is refused', async () => {
    const later = Date.now() + 2 * 365 * 86_400_000;
    const iat = Math.floor(later / 1000);
    const v = await verifier({ clock: () => later }).verify(input(await identity({ iat }), { receivedAt: later }));
    expect(v.failure).toMatchObject({ reason: 'certificate_expired', code: 437 });
  });
});

describe('revocation (STI-PA CRL files)', () => {
  const logger = createLogger({ level: 'silent' });
  const signers = (): X509Certificate[] => [new X509Certificate(root.cert), new X509Certificate(inter.cert)];

  it('a certificate on a CRL, or one whose intermediate is, never verifies (437); others still do', async () => {
    const revokedSp = pki.issue(inter, { cn: 'SHAKEN 9999', tnAuthList: 'spc=EXPLICIT:0,IA5STRING:9999' });
    const url = provision('revoked', revokedSp, inter);
    const revocations = new RevocationList({ files: [pki.crl(inter, [revokedSp])], signers: signers(), logger });
    expect(revocations.size).toBe(1);
    const v = verifier({ revocations });
    const refused = await v.verify(input(await identity({}, { key: revokedSp.key, x5u: url })));
    expect(refused).toMatchObject({ verifies: false, failure: { reason: 'certificate_revoked', code: 437, text: 'Unsupported Credential' } });
    expect((await v.verify(input(await identity()))).verifies).toBe(true);
    // The root revokes the intermediate: every SP certificate under it is refused.
    const byRoot = new RevocationList({ files: [pki.crl(root, [inter], { der: true })], signers: signers(), logger });
    const v2 = await verifier({ revocations: byRoot }).verify(input(await identity()));
    expect(v2.failure).toMatchObject({ reason: 'certificate_revoked', code: 437 });
  });

  it('a CRL no configured signer signed, or a file that is not a CRL, is refused at load', () => {
    const rogue = pki.root('rogue CRL signer');
    expect(() => new RevocationList({ files: [pki.crl(rogue, [sp])], signers: signers(), logger })).toThrow(/no configured signer/);
    expect(() => new RevocationList({ files: [inter.certFile], signers: signers(), logger })).toThrow(/X509 CRL/);
  });

  it('the worker\'s set-up stops with an error naming trust.identity.crlFiles when a CRL cannot be used', () => {
    const redis = new Redis({ lazyConnect: true });
    const config = {
      anchorsFile: root.certFile, certificateDir: undefined, fetchX5u: false, allowPrivateX5u: false, maxAgeSeconds: 60,
      futureSkewSeconds: 5, crlFiles: [`${pki.dir}/missing.crl`], crlSignersFile: undefined, crlRefreshSeconds: 300,
    };
    const opts = { policy: DEFAULT_CALLER_TRUST_POLICY, redis, prefix: '{t}', metrics: createCallerTrustMetrics(new Registry()), logger };
    expect(() => createIdentityVerifier({ ...opts, config })).toThrow(/^trust\.identity\.crlFiles: .*missing\.crl/);
    const ok = createIdentityVerifier({ ...opts, config: { ...config, crlFiles: [pki.crl(root, [])] } });
    expect(ok?.verifier).toBeInstanceOf(StirShakenVerifier);
    ok?.close();
    redis.disconnect();
  });

  it('refresh() applies a changed file and keeps the old list when the new one is bad', async () => {
    const file = `${pki.dir}/live-crl.pem`;
    copyFileSync(pki.crl(inter, []), file);
    const revocations = new RevocationList({ files: [file], signers: signers(), logger });
    const v = verifier({ revocations });
    expect((await v.verify(input(await identity()))).verifies).toBe(true);
    expect(revocations.refresh()).toBe('unchanged');
    copyFileSync(pki.crl(inter, [sp]), file);
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    expect(revocations.refresh()).toBe('reloaded');
    expect((await v.verify(input(await identity()))).failure).toMatchObject({ reason: 'certificate_revoked' });
    copyFileSync(inter.certFile, file);
    utimesSync(file, new Date(), new Date(Date.now() + 10_000));
    expect(revocations.refresh()).toBe('failed');
    expect(revocations.size).toBe(1);
  });
});

describe('x5u over https (loopback server) and the Redis replay store', () => {
  let server: Server;
  let base: string;
  let tlsRoot: Issued;
  let redis: TestRedis;
  let client: Redis;

  beforeAll(async () => {
    tlsRoot = pki.root('test TLS root');
    const tls = pki.issue(tlsRoot, { cn: '127.0.0.1', san: 'IP:127.0.0.1' });
    server = createServer({ key: tls.key.export({ type: 'pkcs8', format: 'pem' }), cert: tls.cert }, (req, res) => {
      if (req.url === '/sti/sp.pem') res.writeHead(200, { 'content-type': 'application/pem-certificate-chain' }).end(sp.cert + inter.cert);
      else if (req.url === '/sti/huge.pem') res.writeHead(200).end('x'.repeat(LIMITS.maxBytes + 1));
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    redis = await startTestRedis({ appendonly: false });
    client = new Redis(redis.url);
  }, 60_000);

  afterAll(async () => {
    client?.disconnect();
    if (redis) await stopAndClean(redis);
    await new Promise((r) => server?.close(r));
  });

  function fetching(allowPrivateAddresses: boolean, replay?: RedisReplayStore): StirShakenVerifier {
    return verifier({
      certificates: new StiCertificateCache({
        verifier: new StiChainVerifier([new X509Certificate(root.cert)]),
        fetcher: new HttpsX5uFetcher({ allowPrivateAddresses, ca: tlsRoot.cert }),
        limits: LIMITS, maxEntries: 10, ttlMs: 60_000, negativeTtlMs: 1000,
      }),
      ...(replay ? { replay } : {}),
    });
  }

  it('fetches the chain once, verifies, and keeps replays out across workers through Redis', async () => {
    const store = new RedisReplayStore(client, '{rptrust}');
    const a = fetching(true, store);
    const b = fetching(true, store);
    const tok = await identity({}, { x5u: `${base}/sti/sp.pem` });
    const call = input(tok);
    expect(await a.verify(call)).toMatchObject({ result: 'pass', verifies: true, certificate: { spc: '1234' } });
    expect(await b.verify(call)).toMatchObject({ verifies: true });
    expect(await b.verify(input(tok))).toMatchObject({ verifies: false, failure: { reason: 'replayed' } });
    expect(await client.keys('{rptrust}:stir:replay:*')).toHaveLength(1);
    expect(await client.pttl((await client.keys('{rptrust}:stir:replay:*'))[0]!)).toBeGreaterThan(60_000);
  });

  it('refuses a loopback x5u unless private addresses are allowed; a 404 is transient, an oversized body is not', async () => {
    const refused = await fetching(false).verify(input(await identity({}, { x5u: `${base}/sti/sp.pem` })));
    expect(refused.failure).toMatchObject({ reason: 'certificate_unavailable', code: 436, transient: false });
    const missing = await fetching(true).verify(input(await identity({}, { x5u: `${base}/sti/none.pem` })));
    expect(missing.failure).toMatchObject({ reason: 'certificate_unavailable', transient: true });
    const huge = await fetching(true).verify(input(await identity({}, { x5u: `${base}/sti/huge.pem` })));
    expect(huge.failure).toMatchObject({ reason: 'certificate_unavailable', transient: false });
  });

  it('a replay store that does not answer gives a transient failure, never a pass', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true });
    try {
      const v = await fetching(true, new RedisReplayStore(dead, '{rptrust}')).verify(input(await identity({}, { x5u: `${base}/sti/sp.pem` })));
      expect(v).toMatchObject({ verifies: false, failure: { reason: 'replay_check_unavailable', transient: true } });
    } finally {
      dead.disconnect();
    }
  });
});
