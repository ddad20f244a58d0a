import { describe, expect, it } from 'vitest';
import { answerChallenge, classifyFinal, mayFailOver, parseChallenge, parseQ850, pickChallenge, TrunkGate, type GateTicket } from '../../src/sip/uac/index.js';

describe('digest (RFC 2617, RFC 7616, RFC 8760)', () => {
  it('answers the RFC 2617 §3.5 MD5 example', () => {
    const ch = parseChallenge('Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"')!;
    expect(ch).toMatchObject({ realm: 'testrealm@host.com', algorithm: 'MD5', qop: ['auth', 'auth-int'], opaque: '5ccc069c403ebaf9f0171e9517f40e41' });
    const a = answerChallenge(ch, { username: 'Mufasa', password: 'Circle Of Life' }, 'GET', '/dir/index.html', 1, '0a4f113b');
    expect(a.response).toBe('6629fae49393a05397450978507c4ef1');
    expect(a.value).toContain('qop=auth, nc=00000001');
    expect(a.value).toContain('opaque="5ccc069c403ebaf9f0171e9517f40e41"');
  });

  it('answers the RFC 7616 §3.9.1 SHA-256 example', () => {
    const ch = parseChallenge('Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"')!;
    const a = answerChallenge(ch, { username: 'Mufasa', password: 'Circle of Life' }, 'GET', '/dir/index.html', 1, 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ');
    expect(a.response).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
    expect(a.value).toContain('algorithm=SHA-256');
  });

  it('picks the strongest supported challenge, skips auth-int only, unknown algorithms and other realms', () => {
    const md5 = 'Digest realm="r", nonce="a", qop="auth", algorithm=MD5';
    const sha = 'Digest realm="r", nonce="b", qop="auth", algorithm=SHA-256';
    const sha512 = 'Digest realm="r", nonce="c", qop="auth", algorithm=SHA-512-256';
    expect(pickChallenge([md5, sha], undefined)?.nonce).toBe('b');
    expect(pickChallenge([sha512, md5, sha], undefined)?.nonce).toBe('c');
    expect(pickChallenge([`${md5}, ${sha}`], undefined)?.nonce).toBe('b');
    expect(pickChallenge(['Digest realm="r", nonce="x", qop="auth-int", algorithm=SHA-256', md5], undefined)?.nonce).toBe('a');
    expect(pickChallenge(['Digest realm="r", nonce="x", algorithm=SHA-1', 'Basic realm="r"'], undefined)).toBeUndefined();
    expect(pickChallenge([md5, 'Digest realm="other", nonce="o", qop="auth", algorithm=SHA-256'], 'r')?.nonce).toBe('a');
  });

  it('answers a challenge without qop in the RFC 2069 form', () => {
    const ch = parseChallenge('Digest realm="r", nonce="n"')!;
    const a = answerChallenge(ch, { username: 'u', password: 'p' }, 'INVITE', 'sip:+1@h');
    expect(a.value).not.toContain('qop=');
    expect(a.value).not.toContain('cnonce=');
  });
});

describe('failure classes', () => {
  it('maps final responses to classes', () => {
    expect([404, 484, 604, 410].map(classifyFinal)).toEqual(['invalid_number', 'invalid_number', 'invalid_number', 'invalid_number']);
    expect([480, 408].map(classifyFinal)).toEqual(['unreachable', 'unreachable']);
    expect([486, 600].map(classifyFinal)).toEqual(['busy', 'busy']);
    expect(classifyFinal(603)).toBe('declined');
    expect([500, 502, 503, 504].map(classifyFinal)).toEqual(['network', 'network', 'network', 'network']);
    expect([403, 488, 407].map(classifyFinal)).toEqual(['rejected', 'rejected', 'rejected']);
  });

  it('fails over only when the trunk failed, never after the user', () => {
    expect(mayFailOver(503, 'network')).toBe(true);
    expect(mayFailOver(408, 'unreachable')).toBe(true);
    expect(mayFailOver(undefined, 'unreachable')).toBe(true);
    expect(mayFailOver(undefined, 'network')).toBe(true);
    expect(mayFailOver(undefined, 'capacity')).toBe(true);
    for (const [s, c] of [[603, 'declined'], [486, 'busy'], [480, 'unreachable'], [404, 'invalid_number'], [403, 'rejected']] as const) {
      expect(mayFailOver(s, c)).toBe(false);
    }
  });

  it('reads the Q.850 cause of a Reason header', () => {
    expect(parseQ850(['SIP;cause=200', 'Q.850;cause=17;text="User busy"'])).toEqual({ cause: 17, text: 'User busy' });
    expect(parseQ850(['Q.850 ; cause=1'])).toEqual({ cause: 1, text: undefined });
    expect(parseQ850(['SIP;cause=487'])).toBeUndefined();
    expect(parseQ850([])).toBeUndefined();
  });
});

describe('TrunkGate', () => {
  it('refuses past the concurrency cap and frees a place on release', async () => {
    const g = new TrunkGate(1000, 2, 1000);
    const first = await g.acquire();
    expect(typeof first).toBe('object');
    expect(typeof (await g.acquire())).toBe('object');
    expect(await g.acquire()).toBe('concurrency');
    g.release(first as GateTicket);
    expect(typeof (await g.acquire())).toBe('object');
  });

  it('counts a call from its send: while the call cps places back has not left, the next waits for it', async () => {
    const g = new TrunkGate(2, 100, 5_000);
    const a = (await g.acquire()) as GateTicket;
    (await g.acquire() as GateTicket).sent();
    let third: number | undefined;
    const t0 = performance.now();
    const pending = g.acquire().then((r) => { third = performance.now() - t0; return r; });
    // `a` has not left: 1.2 s on, the third call still waits (without the open entry it would have gone at ~1 s).
    await new Promise((r) => setTimeout(r, 1_200));
    expect(third).toBeUndefined();
    a.sent();
    expect(typeof (await pending)).toBe('object');
    expect(third!).toBeGreaterThanOrEqual(1_200 + 1_000);
  });

  it('queues calls over the rate and refuses those whose slot is past maxQueueMs', async () => {
    const g = new TrunkGate(10, 100, 250);
    const t0 = performance.now();
    const got = await Promise.all(Array.from({ length: 5 }, () => g.acquire().then((r) => ({ r, at: performance.now() - t0 }))));
    // Slots every 100 ms: 0, 100, 200 fit in 250 ms of queueing; 300 and 400 do not.
    expect(got.map((x) => typeof x.r)).toEqual(['object', 'object', 'object', 'string', 'string']);
    expect(got[3]!.r).toBe('cps');
    expect(got[2]!.at).toBeGreaterThanOrEqual(195);
    expect(g.inProgress).toBe(3);
  });
});
