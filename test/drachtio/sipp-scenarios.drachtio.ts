/**
 * The native engine's SIPp scenarios (sipp-scenarios/*.xml) against a REAL drachtio-server with
 * ringproof's drachtio engine connected to it, over UDP and TCP.
 *
 * Runs only under test/drachtio/vitest.drachtio.config.ts (`npm run test:drachtio`), never in the
 * default run: it needs RINGPROOF_TEST_DRACHTIO=host:port[:secret] pointing at the admin port of a
 * drachtio-server whose SIP contacts are reachable from here (see README, "drachtio engine").
 * Without it this file fails at once, saying so: running the suite is asking for a drachtio-server.
 *
 * Where drachtio-server's transaction layer answers instead of ringproof, the expectations say so.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrunkConfig } from '../../src/config/config-types.js';
import { Edge } from '../../src/edge/edge.js';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.js';
import { DrachtioEngine } from '../../src/sip/engines/drachtio/drachtio-engine.js';
import { describeSipp, runSipp, scenarioPath, sippMessage, type SippResult, type SippRunOptions } from '../helpers/sipp.js';
import { CollectingSink } from '../helpers/collecting-sink.js';
import { discardLogger } from '../helpers/log-capture.js';
import { drachtioSipConfig } from '../helpers/test-config.js';
import { requireDrachtioTarget } from './drachtio-target.js';

const target = requireDrachtioTarget();

const TRUNK: TrunkConfig = { name: 'loopback', sources: ['127.0.0.0/8', '::1'], defaultCountry: 'GB', rejectCode: 486, cliSources: ['pai', 'rpid', 'from'] };

type Transport = 'udp' | 'tcp';

/** Results per scenario and transport, printed at the end for the record. */
const record: Record<string, unknown>[] = [];

/**
 * drachtio-server answers every new INVITE with 100 Trying before any application sees it
 * (controller.cpp, unconditional); ringproof's native engine never sends a 1xx, so the scenarios do
 * not expect one. The scenario is used unchanged except for an optional 100 before the first
 * response of every INVITE.
 */
const scenarioDir = mkdtempSync(join(tmpdir(), 'rp-drachtio-sipp-'));
function tolerate100(name: string): string {
  const xml = readFileSync(scenarioPath(name), 'latin1');
  const m = /(<send[^>]*>\s*<!\[CDATA\[\s*INVITE [\s\S]*?<\/send>\s*(?:<!--[\s\S]*?-->\s*)*)(<recv response=")/.exec(xml);
  if (!m) return scenarioPath(name); // no INVITE (OPTIONS ping): nothing to tolerate
  const at = m.index + (m[1] as string).length;
  // The ACK to a non-2xx reuses the INVITE's branch through [branch-N], N counting scenario messages
  // back to the INVITE: the inserted <recv> is one more message in between, so N + 1.
  const rest = xml.slice(at).replace(/\[branch-(\d+)\]/g, (_, n: string) => `[branch-${Number(n) + 1}]`);
  const out = `${xml.slice(0, at)}<recv response="100" optional="true"/>\n  ${rest}`;
  const file = join(scenarioDir, name);
  writeFileSync(file, out, 'latin1');
  return file;
}

describe.each<Transport>(['udp', 'tcp'])('SIPp scenarios through drachtio-server over %s', (transport) => {
  let engine: DrachtioEngine;
  let metrics: Metrics;
  let sink: CollectingSink;
  let sipTarget: string;

  beforeAll(async () => {
    metrics = createMetrics({ defaults: false });
    sink = new CollectingSink();
    const logger = discardLogger('warn');
    const cfg = drachtioSipConfig(
      { host: target.host, port: target.port, secret: target.secret },
      { scannerUserAgents: ['friendly-scanner', 'sipvicious'] },
    );
    const edge = new Edge({ config: { trunks: [TRUNK], sip: cfg }, metrics, logger, sink });
    engine = new DrachtioEngine(cfg, metrics, logger, { pingIntervalMs: 1_000, pingTimeoutMs: 2_000, reconnectMaxDelayMs: 500 });
    await engine.start(edge);
    expect(await engine.waitReady(5_000), `no connection to drachtio-server at ${target.host}:${target.port}`).toBe(true);
    const contact = engine.serverContacts.find((c) => c.startsWith(`${transport}/`));
    expect(contact, `drachtio-server has no ${transport} contact: ${engine.serverContacts.join(', ')}`).toBeDefined();
    sipTarget = (contact as string).slice(transport.length + 1);
  });

  afterAll(async () => {
    await engine?.stop(0);
    if (transport === 'tcp') rmSync(scenarioDir, { recursive: true, force: true });
    // eslint-disable-next-line no-console
    if (transport === 'tcp') console.log(`drachtio SIPp results:\n${record.map((r) => JSON.stringify(r)).join('\n')}`);
  });

  const sipp = async (name: string, opts: Omit<SippRunOptions, 'transport' | 'target' | 'scenario'>): Promise<SippResult> => {
    const r = await runSipp({ transport, target: sipTarget, scenario: tolerate100(name), timeoutMs: 25_000, ...opts });
    record.push({ transport, scenario: name, exit: r.exitCode, created: r.stats.created, ok: r.stats.successful, failed: r.stats.failed, screen: r.messages });
    return r;
  };

  const counter = async (name: string, labels: Record<string, string> = {}): Promise<number> => {
    const m = await metrics.registry.getSingleMetric(name)?.get();
    return (m?.values ?? [])
      .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
      .reduce((s, v) => s + v.value, 0);
  };

  const expectAllPassed = (r: SippResult, calls: number): void => {
    expect(r.exitCode, describeSipp(r)).toBe(0);
    expect(r.stats.successful, describeSipp(r)).toBe(calls);
  };

  it('uac-reject.xml: every call rejected with a Q.850 Reason and ACKed, one CallEvent per INVITE', async () => {
    const calls = 50;
    const events = sink.events.length;
    const invites = await counter('ringproof_sip_requests_total', { method: 'INVITE', transport });
    const r = await sipp('uac-reject.xml', { injection: 'callers.csv', calls, rate: 100 });
    expectAllPassed(r, calls);
    expect(sippMessage(r, '486').messages).toBe(calls);
    expect(sink.events.length - events).toBe(calls);
    expect(sink.events.at(-1)).toMatchObject({ trunk: 'loopback', cliOrigin: 'from', transport, rejectCode: 486 });
    expect(await counter('ringproof_sip_requests_total', { method: 'INVITE', transport }) - invites).toBe(calls);
    // drachtio-server absorbs the ACKs of our non-2xx responses in its transaction layer.
    expect(await counter('ringproof_sip_requests_total', { method: 'ACK' })).toBe(0);
  });

  it('uac-reject-pai.xml: CLI from P-Asserted-Identity when From is anonymous', async () => {
    const calls = 30;
    const before = sink.events.length;
    const r = await sipp('uac-reject-pai.xml', { injection: 'callers.csv', calls, rate: 100 });
    expectAllPassed(r, calls);
    const mine = sink.events.slice(before);
    expect(mine).toHaveLength(calls);
    expect(mine.every((e) => e.cliOrigin === 'pai')).toBe(true);
  });

  it('uac-retransmit.xml: the INVITE reaches ringproof once; drachtio-server resends the same 486 to the retransmission', async () => {
    const calls = 20;
    const before = sink.events.length;
    const r = await sipp('uac-retransmit.xml', { calls, rate: 50, extraArgs: ['-nr'] });
    // Same as the native engine (RFC 3261 §17.2.1): the retransmitted INVITE gets the identical final
    // response, from drachtio-server's transaction layer; ringproof sees the call once.
    expectAllPassed(r, calls);
    expect(sippMessage(r, '486', 1).messages, describeSipp(r)).toBe(calls);
    expect(sink.events.length - before).toBe(calls);
  });

  it('uac-cancel.xml: CANCEL after the reject is answered 200 for the known INVITE, 481 for an unknown one (as native)', async () => {
    const calls = 10;
    const before = sink.events.length;
    const r = await sipp('uac-cancel.xml', { calls, rate: 50 });
    expectAllPassed(r, calls);
    expect(sippMessage(r, '486').messages, describeSipp(r)).toBe(calls);
    expect(sink.events.length - before).toBe(calls);
    expect(engine.transactionCount()).toBe(0);
  });

  it('uac-options.xml: OPTIONS answered 200 by ringproof (claimed route), Max-Forwards 0 included', async () => {
    const calls = 10;
    const before = await counter('ringproof_sip_responses_total', { code: '200', transport });
    const r = await sipp('uac-options.xml', { calls, rate: 50 });
    expectAllPassed(r, calls);
    expect(await counter('ringproof_sip_responses_total', { code: '200', transport }) - before).toBeGreaterThanOrEqual(calls);
  });

  it('uac-anonymous.xml: a withheld caller is rejected like any other and marked withheld', async () => {
    const calls = 10;
    const before = sink.events.length;
    const r = await sipp('uac-anonymous.xml', { calls, rate: 50 });
    expectAllPassed(r, calls);
    expect(sink.events.slice(before).every((e) => e.cliOrigin === 'withheld')).toBe(true);
    expect(sink.events.length - before).toBe(calls);
  });

  it('uac-compact.xml: compact header forms', async () => {
    const calls = 10;
    const before = sink.events.length;
    const r = await sipp('uac-compact.xml', { calls, rate: 50 });
    expectAllPassed(r, calls);
    expect(sink.events.slice(before).every((e) => e.cliOrigin === 'from')).toBe(true);
    expect(sink.events.length - before).toBe(calls);
  });

  it('uac-bad-requests.xml: 400 from drachtio-server, 483/481/405 from ringproof; FOOBAR unanswered by drachtio-server', async () => {
    const calls = transport === 'udp' ? 5 : 1;
    const before = sink.events.length;
    const r = await sipp('uac-bad-requests.xml', { calls, rate: 20, recvTimeoutMs: 2_000 });
    expect(sippMessage(r, '400').messages, describeSipp(r)).toBe(calls);
    if (transport === 'udp') {
      for (const code of ['483', '481', '405']) expect(sippMessage(r, code).messages, `${code}\n${describeSipp(r)}`).toBe(calls);
      // drachtio-server neither routes nor answers an unknown method: no 501, the request times out.
      expect(sippMessage(r, '501').timeout).toBe(calls);
    }
    // On TCP drachtio-server closes the connection after answering the malformed request 400, so
    // SIPp cannot go on (broken pipe); only the 400 is checked there.
    expect(sink.events.length - before).toBe(0);
    expect(engine.ready).toBe(true);
  });

  it('uac-no-ack.xml: without the ACK, drachtio-server retransmits our reject over UDP only', async () => {
    const calls = 5;
    const r = await sipp('uac-no-ack.xml', { calls, rate: 50 });
    expectAllPassed(r, calls);
    const reject = sippMessage(r, '486');
    expect(reject.messages).toBe(calls);
    if (transport === 'udp') expect(reject.retrans).toBeGreaterThanOrEqual(calls);
    else expect(reject.retrans).toBe(0);
  });
});
