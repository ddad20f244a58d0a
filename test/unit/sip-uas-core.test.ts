import { afterEach, describe, expect, it } from 'vitest';
import { header, type SipResponse } from '../helpers/sip-client.js';
import { uasRig, type UasRig } from '../helpers/uas-rig.js';

// RFC 3261 details of the native UAS core beyond the SIPp scenarios, in-process (no sockets): 420 for
// required extensions, 481 for in-dialog INVITEs we never made, 416/400 for Request-URIs, the CANCEL
// 200 To-tag, Confirmed transactions absorbing copies. The response policy has its own table
// (sip-response-policy.test.ts); what needs real sockets stays in test/e2e/.
let seq = 0;
const rigs: UasRig[] = [];
afterEach(() => {
  for (const r of rigs.splice(0)) r.stop();
});

function rig(): UasRig {
  const r = uasRig();
  rigs.push(r);
  return r;
}

function request(method: string, opts: { uri?: string; branch?: string; extra?: string; toTag?: string; callId?: string } = {}): string {
  seq++;
  return [
    `${method} ${opts.uri ?? 'sip:+15550100001@127.0.0.1'} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:5099;branch=${opts.branch ?? `z9hG4bK-uas-${seq}`};rport`,
    'Max-Forwards: 70',
    `From: <sip:+14155550123@127.0.0.1>;tag=f${seq}`,
    `To: <sip:+15550100001@127.0.0.1>${opts.toTag ? `;tag=${opts.toTag}` : ''}`,
    `Call-ID: ${opts.callId ?? `uas-${seq}@test`}`,
    `CSeq: 1 ${method}`,
    ...(opts.extra ? [opts.extra] : []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

const toTag = (r: SipResponse | undefined): string | undefined => /;tag=([^;]+)/.exec(header(r as SipResponse, 'to') ?? '')?.[1];

describe('native UAS core, RFC 3261 details', () => {
  it('answers an INVITE that requires an unsupported extension with 420 and Unsupported, still one CallEvent', () => {
    const r = rig();
    const [res, ...more] = r.send(request('INVITE', { extra: 'Require: 100rel' }));
    expect(more).toEqual([]);
    expect(res?.status).toBe(420);
    expect(header(res as SipResponse, 'unsupported')).toBe('100rel');
    expect(header(res as SipResponse, 'reason')).toBeUndefined();
    expect(r.sink.events).toHaveLength(1);
    expect(r.sink.events[0]).toMatchObject({ rejectCode: 420, trunk: 'loopback' });
  });

  it('answers an INVITE inside an unknown dialog (To-tag present) with 481 and makes no CallEvent', () => {
    const r = rig();
    const [res] = r.send(request('INVITE', { toTag: 'not-ours' }));
    expect(res?.status).toBe(481);
    expect(toTag(res)).toBe('not-ours');
    expect(r.sink.events).toHaveLength(0);
  });

  it('answers unknown URI schemes with 416 and what is no URI at all with 400', () => {
    const r = rig();
    expect(r.send(request('OPTIONS', { uri: 'mailto:someone@example.com' }))[0]?.status).toBe(416);
    expect(r.send(request('INVITE', { uri: '<sip:user@example.com>' }))[0]?.status).toBe(400);
    expect(r.sink.events).toHaveLength(0);
  });

  it("gives the CANCEL's 200 the To-tag of the INVITE's final response, and 481 to a CANCEL for nothing", () => {
    const r = rig();
    const [inv] = r.send(request('INVITE', { branch: 'z9hG4bK-cancel', callId: 'cancel@test' }));
    expect(inv?.status).toBe(486);
    const [ok] = r.send(request('CANCEL', { branch: 'z9hG4bK-cancel', callId: 'cancel@test' }));
    expect(ok?.status).toBe(200);
    expect(toTag(ok)).toBe(toTag(inv));
    expect(r.send(request('CANCEL', { branch: 'z9hG4bK-never', callId: 'never@test' }))[0]?.status).toBe(481);
  });

  it('resends the same final response to a retransmitted INVITE and makes one CallEvent', async () => {
    const r = rig();
    const invite = request('INVITE', { branch: 'z9hG4bK-again', callId: 'again@test' });
    const [first] = r.send(invite);
    const [second] = r.send(invite);
    expect(second?.raw.equals(first?.raw as Buffer)).toBe(true);
    expect(r.sink.events).toHaveLength(1);
    expect((await r.scrape()).get('ringproof_sip_retransmissions_total', { kind: 'request_in' })).toBe(1);
  });

  it('keeps an ACKed UDP transaction Confirmed: INVITE and ACK copies absorbed, CANCEL known, the Call-ID a duplicate', async () => {
    const r = rig();
    const branch = 'z9hG4bK-confirmed';
    const callId = 'confirmed@test';
    const invite = request('INVITE', { branch, callId });
    const [inv] = r.send(invite);
    expect(inv?.status).toBe(486);
    const ack = request('ACK', { branch, callId, toTag: toTag(inv) });
    expect(r.send(ack)).toEqual([]);

    // The same INVITE and ACK again: absorbed, no answer.
    expect(r.send(invite)).toEqual([]);
    expect(r.send(ack)).toEqual([]);
    // A CANCEL for it still finds it; the same Call-ID on a new branch is answered, but is the same call.
    expect(r.send(request('CANCEL', { branch, callId }))[0]?.status).toBe(200);
    expect(r.send(request('INVITE', { branch: `${branch}-2`, callId }))[0]?.status).toBe(486);

    const m = await r.scrape();
    expect(r.sink.events).toHaveLength(1);
    expect(m.get('ringproof_sip_retransmissions_total', { kind: 'request_in' })).toBe(1);
    expect(m.get('ringproof_sip_retransmissions_total', { kind: 'duplicate_call' })).toBe(1);
    expect(m.get('ringproof_sip_requests_total', { method: 'ACK', trunk: 'loopback' })).toBe(2);
    expect(m.get('ringproof_sip_drops_total', { reason: 'stray_ack' })).toBe(0);
  });

  it('counts an ACK for no transaction as a stray and answers nothing', async () => {
    const r = rig();
    expect(r.send(request('ACK', { toTag: 'x' }))).toEqual([]);
    expect((await r.scrape()).get('ringproof_sip_drops_total', { reason: 'stray_ack' })).toBe(1);
  });

  it('drops a response and an unreadable message, counted by reason, answering neither', async () => {
    const r = rig();
    expect(r.send('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-r\r\nCall-ID: r@test\r\nCSeq: 1 OPTIONS\r\n\r\n')).toEqual([]);
    expect(r.send('INVITE sip:x@127.0.0.1 SIP/2.0\r\nVia: nonsense\r\n\r\n')).toEqual([]);
    const m = await r.scrape();
    expect(m.get('ringproof_sip_drops_total', { reason: 'response' })).toBe(1);
    expect(m.get('ringproof_sip_drops_total', { reason: 'malformed' })).toBe(1);
  });
});
