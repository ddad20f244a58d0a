import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  assertPublicUrl, checkUrlTarget, classifyAddress, createEgressPolicy, createGuardedAgent, guardedLookup, isEgressRefusedError,
  type EgressRefusal,
} from '../../src/egress/index.js';
import { tableResolver } from '../helpers/table-resolver.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

const KEY = 'webhooks.allowPrivateTargets';
const strict = createEgressPolicy({ configKey: KEY });

/** POSTs through `agent`; resolves with the status, or rejects with the request's error. */
function post(url: string, agent: ReturnType<typeof createGuardedAgent>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end('{}');
  });
}

describe('address classes, in every spelling a URL can carry', () => {
  it.each([
    ['https://169.254.169.254/latest/meta-data', 'link-local', '169.254.169.254'],
    ['https://10.0.0.1/hook', 'private', '10.0.0.1'],
    ['https://172.16.5.4/h', 'private', '172.16.5.4'],
    ['https://192.168.1.1/h', 'private', '192.168.1.1'],
    ['https://100.64.0.1/h', 'cgnat', '100.64.0.1'],
    ['https://[::ffff:127.0.0.1]/h', 'loopback', '::ffff:7f00:1'],
    ['https://[::ffff:a9fe:a9fe]/h', 'link-local', '::ffff:a9fe:a9fe'],
    ['https://0x7f000001/h', 'loopback', '127.0.0.1'],
    ['https://2130706433/h', 'loopback', '127.0.0.1'],
    ['https://0177.0.0.1/h', 'loopback', '127.0.0.1'],
    ['https://127.1/h', 'loopback', '127.0.0.1'],
    ['https://127.0.0.1./h', 'loopback', '127.0.0.1'],
    ['https://0xa9.0xfe.0xa9.0xfe/h', 'link-local', '169.254.169.254'],
    ['https://[::1]/h', 'loopback', '::1'],
    ['https://[fc00::1]/h', 'private', 'fc00::1'],
    ['https://[fd12:3456::1]/h', 'private', 'fd12:3456::1'],
    ['https://[fe80::1]/h', 'link-local', 'fe80::1'],
    ['https://224.0.0.1/h', 'multicast', '224.0.0.1'],
    ['https://[ff02::1]/h', 'multicast', 'ff02::1'],
    ['https://0.0.0.0/h', 'unspecified', '0.0.0.0'],
    ['https://0/h', 'unspecified', '0.0.0.0'],
    ['https://[::]/h', 'unspecified', '::'],
    ['https://240.0.0.1/h', 'reserved', '240.0.0.1'],
    ['https://255.255.255.255/h', 'reserved', '255.255.255.255'],
    ['https://192.0.2.7/h', 'reserved', '192.0.2.7'],
    ['https://[2001:db8::1]/h', 'reserved', '2001:db8::1'],
    ['https://[::127.0.0.1]/h', 'reserved', '::7f00:1'],
    ['https://[2002:7f00:1::]/h', 'reserved', '2002:7f00:1::'],
    ['https://[64:ff9b::a9fe:a9fe]/h', 'link-local', '64:ff9b::a9fe:a9fe'],
    ['https://[64:ff9b::7f00:1]/h', 'loopback', '64:ff9b::7f00:1'],
    ['https://localhost/h', 'loopback', '127.0.0.1'],
    ['https://LOCALHOST./h', 'loopback', '127.0.0.1'],
    ['https://app.localhost/h', 'loopback', '127.0.0.1'],
  ])('%s is refused as %s', (url, reason, address) => {
    const r = checkUrlTarget(new URL(url), strict);
    expect(r).toMatchObject({ reason, address });
    expect(() => assertPublicUrl(url, strict)).toThrowError(expect.objectContaining({ code: 'RP_EGRESS_REFUSED' }));
  });

  it.each([
    'https://93.184.215.14/h', 'https://[2606:4700::6810:84e5]/h', 'https://[64:ff9b::808:808]/h', 'https://[::ffff:808:808]/h',
    'https://hooks.example.com/h', 'https://127.0.0.1.nip.example/h',
  ])('%s passes the text check (names are judged when connecting)', (url) => {
    expect(checkUrlTarget(new URL(url), strict)).toBeUndefined();
  });

  it('classifies raw addresses, with a zone id no escape', () => {
    expect(classifyAddress('fe80::1%eth0')).toBe('link-local');
    expect(classifyAddress('8.8.8.8')).toBe('public');
    expect(classifyAddress('4000::1')).toBe('reserved'); // outside 2000::/3, not allocated
    expect(classifyAddress('not-an-ip')).toBeUndefined();
  });

  it('the refusal message names the address, its class and the key that allows it, but never for multicast or unspecified', () => {
    expect(strict.check('10.1.2.3', 'app.internal')?.message)
      .toBe('app.internal resolves to 10.1.2.3, a private-network address (allow it with webhooks.allowPrivateTargets)');
    expect(strict.check('0.0.0.0')?.message).toBe('0.0.0.0, an unspecified ("this host") address');
  });
});

describe('allowPrivateTargets', () => {
  it('allows exactly the listed ranges, in either family, and never unspecified or multicast', () => {
    const p = createEgressPolicy({ allowPrivateTargets: ['10.20.0.0/16', 'fd00::/8', '127.0.0.2', '0.0.0.0/0'], configKey: KEY });
    expect(p.check('10.20.9.9')).toBeUndefined();
    expect(p.check('::ffff:10.20.9.9')).toBeUndefined();
    expect(p.check('fd00::5')).toBeUndefined();
    expect(p.check('127.0.0.2')).toBeUndefined();
    expect(createEgressPolicy({ allowPrivateTargets: ['10.20.0.0/16'] }).check('10.21.0.1')?.reason).toBe('private');
    expect(p.check('0.0.0.0')?.reason).toBe('unspecified');
    expect(p.check('224.0.0.1')?.reason).toBe('multicast');
  });

  it('refuses a malformed CIDR when compiled', () => {
    expect(() => createEgressPolicy({ allowPrivateTargets: ['10.0.0.0/33'] })).toThrow(TypeError);
  });
});

describe('guardedLookup: the answer the socket will use is the one checked', () => {
  it('a name that resolves to a public address first and to 127.0.0.1 next is refused the second time', async () => {
    const resolve = tableResolver({ 'rebind.example.test': ['93.184.215.14', '127.0.0.1'] });
    const refused: EgressRefusal[] = [];
    const lookup = guardedLookup(strict, { resolve, onRefused: (r) => refused.push(r) });
    const run = (): Promise<{ err: Error | null; address: unknown }> => new Promise((done) => {
      lookup('rebind.example.test', { all: true }, (err, address) => done({ err, address }));
    });
    const first = await run();
    expect(first.err).toBeNull();
    expect(first.address).toEqual([{ address: '93.184.215.14', family: 4 }]);
    const second = await run();
    expect(isEgressRefusedError(second.err)).toBe(true);
    expect(second.err!.message).toBe('refused: rebind.example.test resolves to 127.0.0.1, a loopback address (allow it with webhooks.allowPrivateTargets)');
    expect(refused.map((r) => r.reason)).toEqual(['loopback']);
  });

  it('refuses the whole answer when any address in it is refused (no round-robin into the private one)', async () => {
    const resolve = ((_h: string, _o: unknown, cb: (e: null, a: LookupAddress[]) => void) => {
      setImmediate(() => cb(null, [{ address: '93.184.215.14', family: 4 }, { address: '10.0.0.8', family: 4 }]));
    }) as unknown as LookupFunction;
    const err = await new Promise<Error | null>((done) => guardedLookup(strict, { resolve })('mixed.test', {}, (e) => done(e)));
    expect(isEgressRefusedError(err)).toBe(true);
  });

  it('passes a resolver error through untouched', async () => {
    const err = await new Promise<Error | null>((done) => guardedLookup(strict, { resolve: tableResolver({}) })('nx.test', {}, (e) => done(e)));
    expect((err as Error & { code?: string }).code).toBe('ENOTFOUND');
  });
});

describe('createGuardedAgent over real sockets on loopback', () => {
  const receivers: WebhookReceiver[] = [];
  afterEach(async () => {
    for (const r of receivers.splice(0)) await r.close();
  });

  it('refuses an IP literal before any socket exists, and the receiver hears nothing', async () => {
    const rx = await startWebhookReceiver();
    receivers.push(rx);
    const refused: EgressRefusal[] = [];
    const agent = createGuardedAgent(strict, { onRefused: (r) => refused.push(r) });
    await expect(post(rx.url, agent)).rejects.toMatchObject({ code: 'RP_EGRESS_REFUSED' });
    await expect(post(`http://[::ffff:127.0.0.1]:${rx.port}/webhook`, agent)).rejects.toMatchObject({ code: 'RP_EGRESS_REFUSED' });
    await expect(post(`http://0x7f000001:${rx.port}/webhook`, agent)).rejects.toMatchObject({ code: 'RP_EGRESS_REFUSED' });
    expect(refused.map((r) => r.reason)).toEqual(['loopback', 'loopback', 'loopback']);
    expect(rx.received).toHaveLength(0);
    agent.destroy();
  });

  it('guards the https agent too: a literal and a name resolving inward are refused before any TLS handshake', async () => {
    const rx = await startWebhookReceiver();
    receivers.push(rx);
    const resolve = tableResolver({ 'inward.example.test': ['10.9.8.7'] });
    const agent = createGuardedAgent(strict, { secure: true, resolve });
    const get = (url: string): Promise<unknown> => new Promise((done, fail) => {
      const req = httpsRequest(url, { agent }, (res) => done(res.statusCode));
      req.on('error', fail);
      req.end();
    });
    await expect(get(`https://127.0.0.1:${rx.port}/`)).rejects.toMatchObject({ code: 'RP_EGRESS_REFUSED' });
    await expect(get('https://inward.example.test/')).rejects.toMatchObject({
      code: 'RP_EGRESS_REFUSED', message: 'refused: inward.example.test resolves to 10.9.8.7, a private-network address (allow it with webhooks.allowPrivateTargets)',
    });
    expect(resolve.calls).toEqual(['inward.example.test']);
    expect(rx.received).toHaveLength(0);
    agent.destroy();
  });

  it('delivers to an allowlisted address, and refuses the same name once it rebinds outside the list', async () => {
    // Two loopback receivers stand for "the app's private address" (allowed) and "something else
    // on the inside" (not allowed). Connection: close makes every request resolve the name afresh.
    const app = await startWebhookReceiver({ host: '127.0.0.2', headers: { connection: 'close' } });
    const inside = await startWebhookReceiver({ host: '127.0.0.1', headers: { connection: 'close' } });
    receivers.push(app, inside);
    expect(app.port).not.toBe(0);
    const resolve = tableResolver({ 'app.internal.test': ['127.0.0.2', '127.0.0.1'] });
    const policy = createEgressPolicy({ allowPrivateTargets: ['127.0.0.2/32'], configKey: KEY });
    const agent = createGuardedAgent(policy, { resolve, keepAlive: true });
    // The same port on both addresses is not guaranteed, so the inside receiver is reached through its own port.
    expect(await post(`http://app.internal.test:${app.port}/webhook`, agent)).toBe(200);
    await expect(post(`http://app.internal.test:${inside.port}/webhook`, agent)).rejects.toMatchObject({
      code: 'RP_EGRESS_REFUSED', message: 'refused: app.internal.test resolves to 127.0.0.1, a loopback address (allow it with webhooks.allowPrivateTargets)',
    });
    expect(app.received).toHaveLength(1);
    expect(inside.received).toHaveLength(0);
    expect(resolve.calls).toEqual(['app.internal.test', 'app.internal.test']);
    agent.destroy();
  });
});
