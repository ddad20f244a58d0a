import { describe, expect, it } from 'vitest';
import type { CallerTrustPolicy } from '../../src/trust/caller-trust-types.js';
import { CallerTrustDecider, eventTrust, parseCallerTrust } from '../../src/trust/call-trust.js';
import { decideCallerTrust, DEFAULT_CALLER_TRUST_POLICY, verstatEvidence } from '../../src/trust/caller-trust-policy.js';
import { classifyVerstat, VERSTAT_TRUSTS, type VerstatTrust } from '../../src/trust/verstat.js';
import {
  looserFields, policyCode, policyOfCode, REFUSAL_SEPARATOR, refusalsByPolicy, SESSION_POLICIES, uniformRefusals,
} from '../../src/trust/session-trust-policy.js';

describe('classifyVerstat (the edge verdict)', () => {
  it('reads the three standard values and the -A/-B/-C carrier variants in any letter case', () => {
    expect(classifyVerstat('TN-Validation-Passed')).toBe('passed');
    expect(classifyVerstat('tn-validation-passed')).toBe('passed');
    expect(classifyVerstat('TN-Validation-Failed')).toBe('failed');
    expect(classifyVerstat('TN-VALIDATION-FAILED')).toBe('failed');
    expect(classifyVerstat('No-TN-Validation')).toBe('no-validation');
    expect(classifyVerstat('no-tn-validation')).toBe('no-validation');
    expect(classifyVerstat('TN-Validation-Passed-A')).toBe('passed-A');
    expect(classifyVerstat('tn-validation-passed-b')).toBe('passed-B');
    expect(classifyVerstat('TN-Validation-Passed-C')).toBe('passed-C');
  });

  it('absent for no value, unknown for anything else (never a pass)', () => {
    expect(classifyVerstat(null)).toBe('absent');
    expect(classifyVerstat(undefined)).toBe('absent');
    expect(classifyVerstat('')).toBe('absent');
    for (const v of ['TN-Validation-Passed-D', 'TN-Validation-Passed-', 'TN-Validation-PassedXX', 'Passed', 'TN-Validation-Failed-A', '\u0000']) {
      expect(classifyVerstat(v), v).toBe('unknown');
    }
  });
});

const policy = (failed: CallerTrustPolicy['failed'], minAttestation: CallerTrustPolicy['minAttestation']): CallerTrustPolicy => ({ failed, minAttestation, requireNetworkAsserted: false });

function refusals(p: CallerTrustPolicy): Record<VerstatTrust, string> {
  const d = new CallerTrustDecider(p);
  return Object.fromEntries(VERSTAT_TRUSTS.map((t) => [t, d.decide({ trust: t, verstat: null }).refusal])) as Record<VerstatTrust, string>;
}

describe('caller-trust policy', () => {
  it('default: only TN-Validation-Failed is refused', () => {
    expect(DEFAULT_CALLER_TRUST_POLICY).toEqual({ failed: 'reject', minAttestation: 'none', requireNetworkAsserted: false });
    expect(refusals(DEFAULT_CALLER_TRUST_POLICY)).toEqual({
      passed: '', 'passed-A': '', 'passed-B': '', 'passed-C': '', failed: 'caller_id_failed', 'no-validation': '', absent: '', unknown: '',
    });
  });

  it('failed: accept lets a failed caller ID through when no attestation is required', () => {
    expect(refusals(policy('accept', 'none')).failed).toBe('');
    expect(refusals(policy('accept', 'C')).failed).toBe('caller_id_attestation_low');
  });

  it('minAttestation C needs a Passed (a plain Passed counts as C); B and A need the conveyed level', () => {
    expect(refusals(policy('reject', 'C'))).toEqual({
      passed: '', 'passed-A': '', 'passed-B': '', 'passed-C': '', failed: 'caller_id_failed',
      'no-validation': 'caller_id_attestation_low', absent: 'caller_id_attestation_low', unknown: 'caller_id_attestation_low',
    });
    expect(refusals(policy('reject', 'B'))).toMatchObject({
      passed: 'caller_id_attestation_low', 'passed-A': '', 'passed-B': '', 'passed-C': 'caller_id_attestation_low',
    });
    expect(refusals(policy('reject', 'A'))).toMatchObject({
      passed: 'caller_id_attestation_low', 'passed-A': '', 'passed-B': 'caller_id_attestation_low',
    });
  });

  it('names the failure with its RFC 8224 code where there is one', () => {
    expect(decideCallerTrust(verstatEvidence('failed', true), DEFAULT_CALLER_TRUST_POLICY).failure).toMatchObject({ reason: 'verstat_failed', code: null });
    expect(decideCallerTrust(verstatEvidence('absent', true), policy('reject', 'C')).failure)
      .toMatchObject({ reason: 'attestation_missing', code: 428, text: 'Use Identity Header' });
    expect(decideCallerTrust(verstatEvidence('passed-C', true), policy('reject', 'B')).failure).toMatchObject({ reason: 'attestation_low', code: null });
  });

  it('an event from an older edge (no trust field) is classified from its verstat; a bogus trust field too', () => {
    expect(eventTrust({ verstat: 'TN-Validation-Failed' })).toBe('failed');
    expect(eventTrust({ trust: 'bogus' as VerstatTrust, verstat: 'TN-Validation-Failed' })).toBe('failed');
    expect(eventTrust({ trust: 'passed-B', verstat: 'TN-Validation-Failed' })).toBe('passed-B');
    expect(new CallerTrustDecider().decide({ verstat: 'tn-validation-failed' }).refusal).toBe('caller_id_failed');
  });

  it('the stored verdict round-trips; garbage reads as none', () => {
    const { verdictJson } = new CallerTrustDecider().decide({ trust: 'passed-B', verstat: null });
    expect(parseCallerTrust(verdictJson)).toEqual({ result: 'pass', verstat: 'passed-B', attest: 'B' });
    expect(parseCallerTrust(new CallerTrustDecider(policy('accept', 'none')).decide({ trust: 'failed', verstat: null }).verdictJson))
      .toEqual({ result: 'fail', verstat: 'failed', attest: null });
    for (const bad of [undefined, '', '{', 'null', '[]', '{"verstat":"great"}']) expect(parseCallerTrust(bad), String(bad)).toBeUndefined();
  });
});

describe('session caller-trust policies (a verification\'s callerTrustPolicy)', () => {
  it('numbers every policy once, and a number round-trips; anything else reads as none', () => {
    expect(SESSION_POLICIES).toHaveLength(16);
    const codes = SESSION_POLICIES.map((p) => policyCode(p));
    expect(codes).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    for (const p of SESSION_POLICIES) expect(policyOfCode(String(policyCode(p)))).toEqual(p);
    // The first numbers are persisted in Redis: they must never move.
    expect(policyOfCode('1')).toEqual({ failed: 'reject', minAttestation: 'none', requireNetworkAsserted: false });
    expect(policyOfCode('16')).toEqual({ failed: 'accept', minAttestation: 'A', requireNetworkAsserted: true });
    for (const bad of [undefined, '', '0', '17', '99', '01', '1.5', 'x', '-1']) expect(policyOfCode(bad), String(bad)).toBeUndefined();
  });

  it('each verdict carries its refusal under every policy, in policy-number order', () => {
    const list = refusalsByPolicy(verstatEvidence('passed-C', false)).split(REFUSAL_SEPARATOR);
    expect(list).toHaveLength(16);
    SESSION_POLICIES.forEach((p, i) => expect(list[i], JSON.stringify(p)).toBe(decideCallerTrust(verstatEvidence('passed-C', false), p).outcome ?? ''));
    expect(list[policyCode({ failed: 'reject', minAttestation: 'B', requireNetworkAsserted: false }) - 1]).toBe('caller_id_attestation_low');
    expect(list[policyCode({ failed: 'reject', minAttestation: 'C', requireNetworkAsserted: true }) - 1]).toBe('caller_id_not_asserted');
    expect(list[policyCode({ failed: 'reject', minAttestation: 'C', requireNetworkAsserted: false }) - 1]).toBe('');
    expect(uniformRefusals('limit_cli').split(REFUSAL_SEPARATOR)).toEqual(Array(16).fill('limit_cli'));
  });

  it('looserFields names the fields that let through calls the base policy refuses', () => {
    const base: CallerTrustPolicy = { failed: 'reject', minAttestation: 'B', requireNetworkAsserted: true };
    expect(looserFields(base, base)).toEqual([]);
    expect(looserFields({ failed: 'reject', minAttestation: 'A', requireNetworkAsserted: true }, base)).toEqual([]);
    expect(looserFields({ failed: 'accept', minAttestation: 'C', requireNetworkAsserted: false }, base)).toEqual(['failed', 'minAttestation', 'requireNetworkAsserted']);
    expect(looserFields({ failed: 'reject', minAttestation: 'none', requireNetworkAsserted: true }, base)).toEqual(['minAttestation']);
  });

  it('requireNetworkAsserted refuses a From-only CLI before looking at the attestation; a failed caller ID is named first', () => {
    const p: CallerTrustPolicy = { failed: 'reject', minAttestation: 'A', requireNetworkAsserted: true };
    expect(decideCallerTrust(verstatEvidence('passed-A', false), p)).toMatchObject({ verifies: false, outcome: 'caller_id_not_asserted', failure: { reason: 'not_network_asserted' } });
    expect(decideCallerTrust(verstatEvidence('failed', false), p).outcome).toBe('caller_id_failed');
    expect(decideCallerTrust(verstatEvidence('passed-A', true), p).verifies).toBe(true);
    const d = new CallerTrustDecider(p);
    expect(d.decide({ trust: 'passed-A', verstat: null, cliOrigin: 'from' }).refusal).toBe('caller_id_not_asserted');
    expect(d.decide({ trust: 'passed-A', verstat: null, cliOrigin: 'pai' }).refusal).toBe('');
    expect(parseCallerTrust(d.decide({ trust: 'passed-A', verstat: null, cliOrigin: 'rpid' }).verdictJson))
      .toEqual({ result: 'pass', verstat: 'passed-A', attest: 'A', cliSource: 'rpid', networkAsserted: true });
  });
});
