import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/defaults.js';
import { cliPatterns, codeLengthOf, flashWaitSeconds } from '../../src/verify/flash-session.js';
import { toVerification } from '../../src/verify/session-record.js';
import { fallbackReason, inboundFallbackReason } from '../../src/verify/webhook-events.js';

/** The flash-call part of a session (issue #12): patterns, the masked history, the expiry reason. */
const outbound = {
  ...defaultConfig().outbound,
  trunks: [
    { ...trunkStub('a'), cliPool: [{ prefix: '+44207946', digits: 4, text: '+44207946XXXX' }, { prefix: '+442079460999', digits: 0, text: '+442079460999' }] },
    { ...trunkStub('b'), cliPool: [{ prefix: '+44207946', digits: 4, text: '+44207946XXXX' }, { prefix: '+4420794', digits: 6, text: '+4420794XXXXXX' }] },
  ],
};

function trunkStub(name: string) {
  return {
    name, target: { transport: 'udp' as const, host: '127.0.0.1', port: 5080, text: 'udp:127.0.0.1:5080' }, outboundProxy: undefined,
    domain: '127.0.0.1', fromDomain: '127.0.0.1', numberFormat: 'e164' as const, pai: true, credentials: undefined, cps: 1, maxConcurrent: 1,
  };
}

function hash(over: Record<string, string>): Record<string, string> {
  return {
    id: 'vrf_x', status: 'pending', phoneNumber: '+12025550123', callTo: '', owner: 'a', createdAt: '0', expiresAt: '60000',
    method: 'flash_call', flashState: 'rang', flashPatterns: JSON.stringify(cliPatterns(outbound)), flashWaitSeconds: '24',
    flashReportsMax: '3', flashReportTries: '1',
    flashAttempts: JSON.stringify([{ trunk: 'a', cli: '+442079460042', startedAt: 1000, statuses: [100, 180, 487], cancelSent: true, outcome: 'rang', ringMs: 1500 }]),
    ...over,
  };
}

describe('flash-call sessions', () => {
  it('lists each caller-ID pattern once, a full number as its prefix and 4 code digits', () => {
    expect(cliPatterns(outbound)).toEqual([
      { pattern: '+44207946XXXX', prefix: '+44207946', codeLength: 4 },
      { pattern: '+442079460999', prefix: '+44207946', codeLength: 4 },
      { pattern: '+4420794XXXXXX', prefix: '+4420794', codeLength: 6 },
    ]);
    expect(flashWaitSeconds(outbound)).toBe(Math.ceil((outbound.maxQueueMs + outbound.ringTimeoutMs) / 1000) + 2);
  });

  it('finds the code length of a caller ID by the longest pattern it fits', () => {
    const p = cliPatterns(outbound);
    expect(codeLengthOf('+442079460042', p)).toBe(4);
    expect(codeLengthOf('+44207941234', p)).toBe(4);
    expect(codeLengthOf('+442079412345', p)).toBe(4);
    expect(codeLengthOf('+4420794123456', p)).toBe(6);
  });

  it('masks the code digits of the caller ID while pending, and shows them once the session ended', () => {
    const pending = toVerification(hash({}))!;
    expect(pending.callTo).toBeUndefined();
    expect(pending.method).toBe('flash_call');
    expect(pending.flashCall).toMatchObject({ state: 'rang', reportsLeft: 2, waitSeconds: 24, attempts: [{ cli: '+44207946XXXX', ringMs: 1500, statuses: [100, 180, 487] }] });
    expect(toVerification(hash({ status: 'verified' }))!.flashCall!.attempts[0]!.cli).toBe('+442079460042');
    // A fallback DID is shown as callTo.
    expect(toVerification(hash({ callTo: '+15550100001', flashState: 'failed', flashClass: 'busy' }))).toMatchObject({ callTo: '+15550100001', flashCall: { failureClass: 'busy' } });
  });

  it('says in the expired event what became of the call', () => {
    const reason = (over: Record<string, string>): string => fallbackReason(toVerification(hash({ status: 'expired', ...over }))!);
    expect(reason({})).toBe('the flash call was not reported before expiresAt');
    expect(reason({ flashState: 'answered' })).toBe('the flash call was not reported before expiresAt');
    expect(reason({ flashState: 'rang', callTo: '+15550100001' })).toBe('the flash call was not reported and no call to callTo came before expiresAt');
    expect(reason({ flashState: 'queued', flashAttempts: '' })).toBe('no flash call rang before expiresAt');
    expect(reason({ flashState: 'failed', flashClass: 'unreachable' })).toBe('the flash call failed (unreachable)');
    expect(reason({ flashState: 'failed', flashClass: 'busy', callTo: '+15550100001' })).toBe('the flash call failed (busy) and no call to callTo came before expiresAt');
    expect(fallbackReason(toVerification(hash({ method: '', status: 'expired', callTo: '+15550100001' }))!)).toBe('no call received before expiresAt');
  });

  it('says in the fallback event why the session now takes a call to callTo', () => {
    const reason = (over: Record<string, string>): string => inboundFallbackReason(toVerification(hash({ status: 'pending', callTo: '+15550100001', ...over }))!);
    expect(reason({ flashState: 'failed', flashClass: 'busy' })).toBe('the flash call failed (busy)');
    expect(reason({ flashState: 'rang' })).toBe('the flash call was not reported within outbound.reportWindowSeconds');
  });
});
