import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemonProcess, type DaemonProcess } from '../helpers/daemon-process.js';
import { header, parseResponse, UdpSipClient, type SipResponse } from '../helpers/sip-client.js';

// RFC 3261 details of the native UAS beyond the SIPp scenarios: 420 for required extensions,
// 481 for in-dialog INVITEs we never made, 416/400 for Request-URIs, the CANCEL 200 To-tag.
let daemon: DaemonProcess;
let client: UdpSipClient;
let seq = 0;

function request(method: string, opts: { uri?: string; branch?: string; extra?: string; toTag?: string; callId?: string; cseqMethod?: string } = {}): string {
  seq++;
  const uri = opts.uri ?? 'sip:+15550100001@127.0.0.1';
  return [
    `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${client.port};branch=${opts.branch ?? `z9hG4bK-rfc-${seq}`};rport`,
    'Max-Forwards: 70',
    `From: <sip:+14155550123@127.0.0.1>;tag=f${seq}`,
    `To: <sip:+15550100001@127.0.0.1>${opts.toTag ? `;tag=${opts.toTag}` : ''}`,
    `Call-ID: ${opts.callId ?? `rfc-${seq}@test`}`,
    `CSeq: 1 ${opts.cseqMethod ?? method}`,
    ...(opts.extra ? [opts.extra] : []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

async function exchange(msg: string, expected = 1): Promise<SipResponse[]> {
  const before = client.received.length;
  await client.send(msg, daemon.sipPort);
  await client.waitFor(before + expected, 3000);
  return client.received.slice(before).map((r) => parseResponse(r.data) as SipResponse);
}

beforeAll(async () => {
  daemon = await startDaemonProcess({ env: { RINGPROOF_ROLE: 'edge', RINGPROOF_EVENT_SINK: 'log' } });
  client = await UdpSipClient.open();
});

afterAll(async () => {
  await client?.close();
  await daemon?.stop();
});

describe('native UAS RFC 3261 details', () => {
  it('answers an INVITE that requires an unsupported extension with 420 and Unsupported, still one CallEvent', async () => {
    const before = (await daemon.metrics()).get('ringproof_call_events_total');
    const [r] = await exchange(request('INVITE', { extra: 'Require: 100rel' }));
    expect(r?.status).toBe(420);
    expect(header(r as SipResponse, 'unsupported')).toBe('100rel');
    const after = (await daemon.metrics()).get('ringproof_call_events_total');
    expect(after - before).toBe(1);
  });

  it('answers an INVITE inside an unknown dialog (To-tag present) with 481 and makes no CallEvent', async () => {
    const before = (await daemon.metrics()).get('ringproof_call_events_total');
    const [r] = await exchange(request('INVITE', { toTag: 'not-ours' }));
    expect(r?.status).toBe(481);
    expect((await daemon.metrics()).get('ringproof_call_events_total')).toBe(before);
  });

  it('answers unknown URI schemes with 416 and what is no URI at all with 400', async () => {
    expect((await exchange(request('OPTIONS', { uri: 'mailto:someone@example.com' })))[0]?.status).toBe(416);
    expect((await exchange(request('INVITE', { uri: '<sip:user@example.com>' })))[0]?.status).toBe(400);
  });

  it("gives the CANCEL's 200 the To-tag of the INVITE's final response", async () => {
    const branch = `z9hG4bK-cancel-${Date.now()}`;
    const callId = `cancel-${Date.now()}@test`;
    const [inv] = await exchange(request('INVITE', { branch, callId }));
    expect(inv?.status).toBe(486);
    const [ok] = await exchange(request('CANCEL', { branch, callId }));
    expect(ok?.status).toBe(200);
    const tag = (v: string | undefined): string | undefined => /;tag=([^;]+)/.exec(v ?? '')?.[1];
    expect(tag(header(ok as SipResponse, 'to'))).toBe(tag(header(inv as SipResponse, 'to')));
  });

  it('keeps an ACKed UDP transaction Confirmed: INVITE and ACK copies absorbed, CANCEL known, the Call-ID a duplicate', async () => {
    const branch = `z9hG4bK-confirmed-${Date.now()}`;
    const callId = `confirmed-${Date.now()}@test`;
    const m0 = await daemon.metrics();
    const invite = request('INVITE', { branch, callId });
    const [inv] = await exchange(invite);
    expect(inv?.status).toBe(486);
    const toTag = /;tag=([^;]+)/.exec(header(inv as SipResponse, 'to') ?? '')?.[1];
    const ack = request('ACK', { branch, callId, toTag });
    await client.send(ack, daemon.sipPort);
    await expect.poll(async () => (await daemon.metrics()).get('ringproof_sip_requests_total', { method: 'ACK' }) -
      m0.get('ringproof_sip_requests_total', { method: 'ACK' }), { timeout: 3000 }).toBe(1);

    // The same INVITE and ACK again: absorbed, no answer. Only this call's messages count: the earlier
    // tests never ACK, so Timer G keeps retransmitting their final responses into this window. Settle
    // first: on a loaded machine the ACK can arrive after Timer G fired for this call too.
    const ours = (): number => client.received.filter((r) => r.data.toString('latin1').includes(callId)).length;
    await client.settle(300, 1500);
    const before = ours();
    await client.send(invite, daemon.sipPort);
    await client.send(ack, daemon.sipPort);
    await client.settle(300, 1500);
    expect(ours()).toBe(before);
    // A CANCEL for it still finds it; the same Call-ID on a new branch is answered, but is the same call.
    const [ok] = await exchange(request('CANCEL', { branch, callId }));
    expect(ok?.status).toBe(200);
    const [again] = await exchange(request('INVITE', { branch: `${branch}-2`, callId }));
    expect(again?.status).toBe(486);

    const m1 = await daemon.metrics();
    const d = (name: string, labels: Record<string, string>): number => m1.get(name, labels) - m0.get(name, labels);
    expect(d('ringproof_call_events_total', {})).toBe(1);
    expect(d('ringproof_sip_retransmissions_total', { kind: 'request_in' })).toBe(1);
    expect(d('ringproof_sip_retransmissions_total', { kind: 'duplicate_call' })).toBe(1);
    expect(d('ringproof_sip_requests_total', { method: 'ACK', trunk: 'loopback' })).toBe(2);
    expect(d('ringproof_sip_drops_total', { reason: 'stray_ack' })).toBe(0);
  });
});
