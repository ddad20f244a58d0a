import { createHash } from 'node:crypto';
import { compactVerify } from 'jose';
import type { Logger } from 'pino';
import { eventTrust } from './call-trust.js';
import type { CallerTrustFailure, CallerTrustPolicy, CallerTrustReason } from './caller-trust-types.js';
import type { CallerTrustMetrics } from './caller-trust-metrics.js';
import { cliNetworkAsserted, decideCallerTrust, verstatEvidence, type TrustEvidence } from './caller-trust-policy.js';
import { MAX_IDENTITY_VALUES, parseIdentityValue, splitIdentityValues } from './identity-header.js';
import { decodePassport, type ShakenPassport } from './passport.js';
import type { ReplayStore } from './replay-store.js';
import type { RevocationCheck } from './revocation-list.js';
import type { StiCertificateCache } from './sti-certificate-cache.js';
import type { StiCertificate } from './sti-chain-verifier.js';
import type { CallerTrustVerdict, CallerTrustVerifier, StirShakenInput, TrustCertificate } from './stir-shaken-types.js';
import { e164Digits } from './telephone-number.js';
import { tnAuthorized } from './tn-auth-list.js';
import { trustFailure } from './trust-reasons.js';
import { classifyVerstat, type VerstatTrust } from './verstat.js';
import { checkX5u } from './x5u-url.js';

export interface StirShakenVerifierOptions {
  /** Global policy, used when an input carries none. */
  policy: CallerTrustPolicy;
  /** Certificates chained to the trust anchors; undefined when no anchors are configured (Identity is then 'unchecked'). */
  certificates: StiCertificateCache | undefined;
  replay: ReplayStore;
  /** The STI-PA CRL(s); absent = revocation is not checked. */
  revocations?: RevocationCheck;
  /** Oldest PASSporT iat accepted, relative to the call's receive time. */
  maxAgeMs: number;
  /** How far iat may lie in the future (clock skew between carriers). */
  futureSkewMs: number;
  /** Kept in the replay store beyond the freshness window: workers may process a call long after the edge received it. */
  replayMarginMs?: number;
  metrics?: CallerTrustMetrics;
  logger?: Logger;
}

/** Longest Identity text looked at (all values together); a SIP message is at most 8 KB by default. */
const MAX_IDENTITY_CHARS = 16 * 1024;
const DEFAULT_REPLAY_MARGIN_MS = 60_000;

type IdentityCheck =
  | { status: 'valid'; passport: ShakenPassport; cert: StiCertificate }
  | { status: 'invalid'; failure: CallerTrustFailure }
  | { status: 'absent' | 'unchecked' };

class Refusal extends Error {
  constructor(readonly failure: CallerTrustFailure) {
    super(failure.detail);
  }
}

function refuse(reason: CallerTrustReason, detail: string, transient = false): never {
  throw new Refusal(trustFailure(reason, detail, transient));
}

function text(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

/**
 * The terminating-side STIR/SHAKEN verifier (RFC 8224, 8225, 8588) with ringproof's policy on top.
 * Checks, cheapest first, so a bogus token never costs a certificate load: Identity syntax, PASSporT
 * shape and SHAKEN claims, x5u rules, orig.tn = CLI, DID in dest.tn, iat freshness; then the
 * certificate (cached: chain to the anchors, TNAuthList, validity at iat), the ES256 signature (jose)
 * and last the replay store, so only otherwise valid PASSporTs occupy it.
 */
export class StirShakenVerifier implements CallerTrustVerifier {
  private readonly replayTtlMs: number;

  constructor(private readonly opts: StirShakenVerifierOptions) {
    this.replayTtlMs = opts.maxAgeMs + opts.futureSkewMs + (opts.replayMarginMs ?? DEFAULT_REPLAY_MARGIN_MS);
  }

  async verify(input: StirShakenInput): Promise<CallerTrustVerdict> {
    let verdict: CallerTrustVerdict;
    try {
      verdict = await this.evaluate(input);
    } catch (err) {
      this.opts.logger?.error({ err }, 'caller trust verification failed unexpectedly');
      verdict = this.errorVerdict(input);
    }
    this.opts.metrics?.verdicts.inc({
      result: verdict.result,
      reason: verdict.failure?.reason ?? 'none',
      verifies: verdict.verifies ? 'true' : 'false',
    });
    return verdict;
  }

  private async evaluate(input: StirShakenInput): Promise<CallerTrustVerdict> {
    const verstat = eventTrust(input);
    const identity = await this.checkIdentity(input);
    // A bad Identity fails the call; so does the carrier's own TN-Validation-Failed, even next to a
    // PASSporT we could verify (the carrier may know why it refused). Otherwise a valid PASSporT
    // beats the verstat, and without one the verstat is all the evidence there is.
    // A valid PASSporT vouches for the CLI as its signing provider asserted it, whatever header it came in.
    const networkAsserted = identity.status === 'valid' || cliNetworkAsserted(input.cliOrigin);
    let evidence: TrustEvidence;
    if (identity.status === 'invalid') evidence = { result: 'fail', failure: identity.failure, attest: null, networkAsserted };
    else if (identity.status === 'valid' && verstat !== 'failed') evidence = { result: 'pass', failure: null, attest: identity.passport.attest, networkAsserted };
    else evidence = verstatEvidence(verstat, networkAsserted);
    return this.verdict(verstat, identity, evidence, input.policy);
  }

  private verdict(verstat: VerstatTrust, identity: IdentityCheck, evidence: TrustEvidence, policy: CallerTrustPolicy | undefined): CallerTrustVerdict {
    const decision = decideCallerTrust(evidence, policy ?? this.opts.policy);
    const valid = identity.status === 'valid' && evidence.result === 'pass' ? identity : undefined;
    return {
      v: 1,
      result: evidence.result,
      verstat,
      attest: evidence.attest,
      verifies: decision.verifies,
      outcome: decision.outcome,
      identity: identity.status,
      networkAsserted: evidence.networkAsserted,
      origid: valid?.passport.origid ?? null,
      certificate: valid === undefined ? null : certificateOf(valid.cert),
      failure: decision.failure,
    };
  }

  private async checkIdentity(input: StirShakenInput): Promise<IdentityCheck> {
    const raw = text(input.identity);
    if (raw === null) return { status: 'absent' };
    if (this.opts.certificates === undefined) return { status: 'unchecked' };
    if (raw.length > MAX_IDENTITY_CHARS) {
      return { status: 'invalid', failure: trustFailure('identity_malformed', `Identity longer than ${MAX_IDENTITY_CHARS} characters`) };
    }
    let first: CallerTrustFailure | undefined;
    for (const value of splitIdentityValues(raw).slice(0, MAX_IDENTITY_VALUES)) {
      try {
        const checked = await this.checkOne(value, input);
        if (checked !== undefined) return checked;
      } catch (err) {
        if (!(err instanceof Refusal)) throw err;
        first ??= err.failure;
      }
    }
    return first === undefined ? { status: 'absent' } : { status: 'invalid', failure: first };
  }

  /** One Identity value: valid, or throws a Refusal; undefined for a non-SHAKEN value (ppt=div, …). */
  private async checkOne(value: string, input: StirShakenInput): Promise<IdentityCheck | undefined> {
    const parsed = parseIdentityValue(value);
    if (!parsed.ok) refuse(parsed.reason, parsed.detail);
    const { token, info, alg, ppt } = parsed.value;
    if (ppt !== undefined && ppt.toLowerCase() !== 'shaken') return undefined;
    if (alg !== undefined && alg !== 'ES256') refuse('alg_unsupported', 'the alg parameter is not ES256');
    const decoded = decodePassport(token);
    if (!decoded.ok) refuse(decoded.reason, decoded.detail);
    const p = decoded.passport;
    if (info !== undefined && info !== p.x5u) refuse('info_mismatch', 'the info parameter differs from the PASSporT x5u');
    const x5u = checkX5u(p.x5u);
    if (!x5u.ok) refuse('x5u_invalid', x5u.detail);
    const cli = e164Digits(text(input.cli));
    if (cli === undefined || cli !== p.origTn) refuse('orig_mismatch', 'orig.tn is not the caller ID');
    const did = e164Digits(text(input.did));
    if (did === undefined || !p.destTns.includes(did)) refuse('dest_mismatch', 'the called number is not in dest.tn');
    const iatMs = p.iat * 1000;
    const receivedAt = Number.isFinite(input.receivedAt) ? input.receivedAt : Date.now();
    if (receivedAt - iatMs > this.opts.maxAgeMs) refuse('stale', `iat is more than ${this.opts.maxAgeMs / 1000} s before the call`);
    if (iatMs - receivedAt > this.opts.futureSkewMs) refuse('future', `iat is more than ${this.opts.futureSkewMs / 1000} s after the call`);

    const found = await (this.opts.certificates as StiCertificateCache).get(x5u.url);
    if (!found.ok) refuse(found.reason, found.detail, found.transient);
    const cert = found.cert;
    if (iatMs < cert.validFromMs || iatMs > cert.validToMs) refuse('certificate_expired', 'the certificate path is not valid at iat');
    if (this.opts.revocations?.isRevoked(cert.pathIds) === true) refuse('certificate_revoked', 'a certificate of the path is on a configured CRL');
    if (!tnAuthorized(cert.tnAuthList, p.origTn)) refuse('tn_not_authorized', 'the certificate TNAuthList does not cover orig.tn');
    try {
      await compactVerify(token, cert.key, { algorithms: ['ES256'], crit: { ppt: true } });
    } catch {
      refuse('signature_invalid', 'the ES256 signature does not verify with the x5u certificate');
    }

    const signature = token.slice(token.lastIndexOf('.') + 1);
    const key = createHash('sha256').update(signature).digest('base64url');
    const callId = typeof input.callId === 'string' ? input.callId : '';
    let holder: string;
    try {
      holder = await this.opts.replay.claim(key, callId, this.replayTtlMs);
    } catch {
      refuse('replay_check_unavailable', 'the replay store did not answer', true);
    }
    if (holder !== callId) refuse('replayed', 'this PASSporT was already presented on another call');
    return { status: 'valid', passport: p, cert };
  }

  private errorVerdict(input: StirShakenInput): CallerTrustVerdict {
    const failure = trustFailure('verifier_error', 'the verifier failed unexpectedly');
    const verstat = typeof input?.verstat === 'string' ? classifyVerstat(input.verstat) : 'absent';
    return this.verdict(verstat, { status: 'invalid', failure }, { result: 'fail', failure, attest: null, networkAsserted: cliNetworkAsserted(input?.cliOrigin) }, input?.policy);
  }
}

function certificateOf(c: StiCertificate): TrustCertificate {
  return { spc: c.tnAuthList.spcs[0] ?? null, subject: c.subject, issuer: c.issuer, notAfter: new Date(c.notAfterMs).toISOString() };
}
