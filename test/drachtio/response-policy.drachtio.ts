/**
 * The response policy's table (test/helpers/response-policy-cases.ts) through a REAL drachtio-server
 * with ringproof's drachtio engine connected to it: the same requests, the same final responses as
 * the native engine gives in test/unit/sip-response-policy.test.ts, except where drachtio-server
 * answers (or drops) a request itself before the engine sees it; the table says where and why.
 *
 * Runs only under test/drachtio/vitest.drachtio.config.ts (`npm run test:drachtio`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Edge } from '../../src/edge/edge.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { DrachtioEngine } from '../../src/sip/engines/drachtio/drachtio-engine.js';
import { CollectingSink } from '../helpers/collecting-sink.js';
import { discardLogger } from '../helpers/log-capture.js';
import { expectPolicyAnswer, POLICY_CASES, policyRequest, UNKNOWN_METHOD_CASE, type PolicyCase } from '../helpers/response-policy-cases.js';
import { parseResponse, UdpSipClient, type SipResponse } from '../helpers/sip-client.js';
import { drachtioSipConfig } from '../helpers/test-config.js';
import { RIG_TRUNK } from '../helpers/uas-rig.js';
import { requireDrachtioTarget } from './drachtio-target.js';

const target = requireDrachtioTarget();

describe('the drachtio engine answers by the response policy (through drachtio-server, UDP)', () => {
  let engine: DrachtioEngine;
  let client: UdpSipClient;
  let sip: { host: string; port: number };

  beforeAll(async () => {
    const metrics = createMetrics({ defaults: false });
    const logger = discardLogger('warn');
    const cfg = drachtioSipConfig({ host: target.host, port: target.port, secret: target.secret });
    const edge = new Edge({ config: { trunks: [RIG_TRUNK], sip: cfg }, metrics, logger, sink: new CollectingSink() });
    engine = new DrachtioEngine(cfg, metrics, logger, { pingIntervalMs: 1_000, pingTimeoutMs: 2_000, reconnectMaxDelayMs: 500 });
    await engine.start(edge);
    expect(await engine.waitReady(5_000), `no connection to drachtio-server at ${target.host}:${target.port}`).toBe(true);
    const contact = engine.serverContacts.find((c) => c.startsWith('udp/'));
    expect(contact, `drachtio-server has no udp contact: ${engine.serverContacts.join(', ')}`).toBeDefined();
    const m = /^udp\/(.+):(\d+)$/.exec(contact as string) as RegExpExecArray;
    sip = { host: (m[1] as string).replace(/^\[|\]$/g, ''), port: Number(m[2]) };
    client = await UdpSipClient.open();
  });

  afterAll(async () => {
    await client?.close();
    await engine?.stop(0);
  });

  const at = (): { host: string; port: number; transport: 'UDP'; target: string } =>
    ({ host: '127.0.0.1', port: client.port, transport: 'UDP', target: `${sip.host}:${sip.port}` });

  /** Final responses (drachtio-server sends 100 Trying to an INVITE first) received for a Call-ID. */
  const finals = (callId: string): SipResponse[] => client.received
    .map((d) => parseResponse(d.data))
    .filter((r): r is SipResponse => r !== undefined && r.status >= 200 && r.headers.get('call-id')?.[0] === callId);

  async function finalResponse(c: PolicyCase, n: string): Promise<SipResponse | undefined> {
    await client.send(policyRequest(c, at(), n), sip.port, sip.host);
    await expect.poll(() => finals(`policy-${n}@test`).length, { timeout: 5_000 }).toBeGreaterThan(0);
    return finals(`policy-${n}@test`)[0];
  }

  /**
   * True when drachtio-server gave no answer: an OPTIONS sent after it is answered (drachtio-server
   * handles one source's datagrams in order) and still nothing came for the request itself.
   */
  async function unanswered(c: PolicyCase, n: string): Promise<boolean> {
    await client.send(policyRequest(c, at(), n), sip.port, sip.host);
    const probe = POLICY_CASES.find((p) => p.method === 'OPTIONS') as PolicyCase;
    await finalResponse(probe, `${n}-probe`);
    return finals(`policy-${n}@test`).length === 0;
  }

  it.each([...POLICY_CASES, UNKNOWN_METHOD_CASE].map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
    const n = `drachtio-${i}-${Date.now()}`;
    if (c.drachtio === undefined) return expectPolicyAnswer(c, await finalResponse(c, n));
    // Answered by drachtio-server itself, before the engine (the case says why).
    if (c.drachtio.status === null) expect(await unanswered(c, n), c.drachtio.why).toBe(true);
    else expect((await finalResponse(c, n))?.status, c.drachtio.why).toBe(c.drachtio.status);
  });
});
