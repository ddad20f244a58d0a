import { afterAll, describe, expect, it } from 'vitest';
import { hopsExhausted, NOT_ALLOWED_METHODS, rejectReason, unservedMethodCode } from '../../src/sip/uas/response-policy.js';
import { expectPolicyAnswer, POLICY_405, POLICY_CASES, policyRequest, UNKNOWN_METHOD_CASE } from '../helpers/response-policy-cases.js';
import { RIG_TRUNK, uasRig } from '../helpers/uas-rig.js';

describe('the response policy', () => {
  it('lists exactly the methods the shared table expects 405 for', () => {
    expect([...NOT_ALLOWED_METHODS].sort()).toEqual([...POLICY_405].sort());
    for (const m of POLICY_405) expect(unservedMethodCode(m)).toBe(405);
    expect(unservedMethodCode('FROBNICATE')).toBe(501);
    expect(unservedMethodCode('update')).toBe(501); // methods are case-sensitive (RFC 3261 §7.1)
  });

  it('lets only OPTIONS through Max-Forwards 0', () => {
    expect(hopsExhausted('OPTIONS', 0)).toBe(false);
    expect(hopsExhausted('INVITE', 0)).toBe(true);
    expect(hopsExhausted('INVITE', 1)).toBe(false);
    expect(hopsExhausted('INVITE', undefined)).toBe(false);
  });

  it('gives 486 and 603 their Q.850 causes and names any other code itself', () => {
    expect(rejectReason(486)).toBe('Q.850;cause=17;text="User busy"');
    expect(rejectReason(603)).toBe('Q.850;cause=21;text="Call rejected"');
    expect(rejectReason(480)).toBe('SIP;cause=480');
  });
});

describe.each(['udp', 'tcp'] as const)('the native engine answers by the response policy over %s', (transport) => {
  const rig = uasRig({ trunks: [RIG_TRUNK] });
  afterAll(() => rig.stop());
  const at = { host: '127.0.0.1', port: 5099, transport: transport === 'udp' ? 'UDP' : 'TCP', target: '127.0.0.1' } as const;

  it.each([...POLICY_CASES, UNKNOWN_METHOD_CASE].map((c, i) => [c.name, c, i] as const))('%s', (_name, c, i) => {
    const sent = rig.send(policyRequest(c, at, `${transport}-${i}`), { transport });
    expect(sent).toHaveLength(1);
    expectPolicyAnswer(c, sent[0]);
  });
});
