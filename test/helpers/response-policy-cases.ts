import { expect } from 'vitest';
import { header, type SipResponse } from './sip-client.js';

/**
 * The response policy (src/sip/uas/response-policy.ts) as a table of requests and the final response
 * each must get, run against both engines: in-process against the native UAS core
 * (test/unit/sip-response-policy.test.ts) and through a real drachtio-server against the drachtio
 * engine (test/drachtio/response-policy.drachtio.ts). Written out literally: it is the specification.
 */
export interface PolicyCase {
  name: string;
  method: string;
  /** Max-Forwards of the request (70 unless given). */
  maxForwards?: number;
  status: number;
  /** The Allow header the response must carry, or null for none. */
  allow: string | null;
  accept?: string;
  reason?: string;
  /**
   * Where drachtio-server answers (or swallows) the request itself, before any application sees it:
   * what it does instead (null: no answer at all). The drachtio suite asserts this, so a change in
   * drachtio-server shows up.
   */
  drachtio?: { status: number | null; why: string };
}

const SERVER_481 = { status: 481, why: 'drachtio-server answers requests it treats as in-dialog (BYE, UPDATE) itself: no dialog, 481' };
const SERVER_SILENT = { status: null, why: 'drachtio-server drops an out-of-dialog PRACK or REFER and any unknown method without passing it on' };

const ALLOW = 'INVITE, ACK, CANCEL, OPTIONS, BYE';
/** Known methods ringproof does not serve. */
export const POLICY_405 = ['REGISTER', 'SUBSCRIBE', 'NOTIFY', 'MESSAGE', 'INFO', 'UPDATE', 'PRACK', 'REFER', 'PUBLISH'];

export const POLICY_CASES: readonly PolicyCase[] = [
  { name: 'INVITE gets the trunk reject code with its Q.850 Reason', method: 'INVITE', status: 486, allow: null, reason: 'Q.850;cause=17;text="User busy"' },
  { name: 'OPTIONS gets 200 with Allow and Accept', method: 'OPTIONS', status: 200, allow: ALLOW, accept: 'application/sdp' },
  { name: 'OPTIONS with Max-Forwards 0 is still answered 200', method: 'OPTIONS', maxForwards: 0, status: 200, allow: ALLOW, accept: 'application/sdp' },
  { name: 'BYE gets 481 (no dialog exists)', method: 'BYE', status: 481, allow: null, drachtio: SERVER_481 },
  ...POLICY_405.map((method) => ({
    name: `${method} gets 405 with Allow`, method, status: 405, allow: ALLOW,
    ...(method === 'UPDATE' ? { drachtio: SERVER_481 } : method === 'PRACK' || method === 'REFER' ? { drachtio: SERVER_SILENT } : {}),
  })),
  { name: 'INVITE with Max-Forwards 0 gets 483', method: 'INVITE', maxForwards: 0, status: 483, allow: null },
  { name: 'BYE with Max-Forwards 0 gets 483', method: 'BYE', maxForwards: 0, status: 483, allow: null, drachtio: SERVER_481 },
  { name: 'REGISTER with Max-Forwards 0 gets 483, before the method rule', method: 'REGISTER', maxForwards: 0, status: 483, allow: null },
];

/** An unknown method: 501 from the native engine (drachtio-srf can only claim methods by name). */
export const UNKNOWN_METHOD_CASE: PolicyCase = {
  name: 'an unknown method gets 501 without Allow', method: 'FROBNICATE', status: 501, allow: null, drachtio: SERVER_SILENT,
};

/** The request of a case, from a UAC at host:port over transport, with unique ids from n. */
export function policyRequest(c: PolicyCase, at: { host: string; port: number; transport: 'UDP' | 'TCP'; target: string }, n: string): string {
  return [
    `${c.method} sip:+15550100001@${at.target} SIP/2.0`,
    `Via: SIP/2.0/${at.transport} ${at.host}:${at.port};branch=z9hG4bK-policy-${n};rport`,
    `Max-Forwards: ${c.maxForwards ?? 70}`,
    `From: <sip:+447700900123@${at.host}>;tag=f-${n}`,
    `To: <sip:+15550100001@${at.target}>`,
    `Call-ID: policy-${n}@test`,
    `CSeq: 1 ${c.method}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** Asserts that res is the final response the case asks for. */
export function expectPolicyAnswer(c: PolicyCase, res: SipResponse | undefined): void {
  expect(res?.status, c.name).toBe(c.status);
  const r = res as SipResponse;
  expect(header(r, 'allow') ?? null, `${c.name}: Allow`).toBe(c.allow);
  if (c.accept !== undefined) expect(header(r, 'accept'), `${c.name}: Accept`).toBe(c.accept);
  expect(header(r, 'reason'), `${c.name}: Reason`).toBe(c.reason);
}
