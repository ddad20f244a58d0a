import { Command } from 'commander';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/config/hash-api-key.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { registerVerifyCommands } from '../../src/command-line/commands/verify-command.js';
import type { VerifyIo } from '../../src/command-line/commands/verify-io.js';
import { CallWorker } from '../../src/verify/call-worker.js';
import { createVerifyMetrics } from '../../src/verify/verify-metrics.js';
import { freePort } from '../helpers/free-port.js';
import { startTestRedis, stopAndClean, type TestRedis } from '../helpers/redis-server.js';
import { startApiHarness, type ApiHarness } from '../helpers/api-harness.js';

const TOKEN = 'rp_cli_token_0123456789';

let testRedis: TestRedis;
let h: ApiHarness;

beforeAll(async () => {
  testRedis = await startTestRedis({ appendonly: false });
  h = await startApiHarness(testRedis, { keys: [{ name: 'cli', hash: hashApiKey(TOKEN) }] });
});

afterAll(async () => {
  await h?.close();
  if (testRedis) await stopAndClean(testRedis);
});

interface Run {
  out: string[];
  err: string[];
  exitCode: number | undefined;
  done: Promise<void>;
}

/** Runs `ringproof <args>` in-process through commander, capturing output and the exit code. */
function run(args: string[], overrides: Partial<VerifyIo> = {}): Run {
  const r: Run = { out: [], err: [], exitCode: undefined, done: Promise.resolve() };
  const io: VerifyIo = {
    out: (l) => { r.out.push(l); },
    err: (l) => { r.err.push(l); },
    env: {},
    fetch,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: () => Date.now(),
    setExitCode: (c) => { r.exitCode = c; },
    ...overrides,
  };
  const program = new Command('ringproof').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  registerVerifyCommands(program, io);
  r.done = program.parseAsync(args, { from: 'user' }).then(() => undefined);
  return r;
}

const api = () => ['--api', h.baseUrl, '--api-key', TOKEN];

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ringproof verify', () => {
  it('start prints the number to call, waits, and exits 0 once a real call verifies the session', async () => {
    const r = run(['verify', 'start', '+1 202 555 9001', ...api()]);
    await until(() => r.out.length >= 2);
    const m = /^Call (\+\d+) now \(expires (\S+)\)$/.exec(r.out[0] ?? '');
    expect(m).not.toBeNull();
    const callTo = m![1]!;
    expect(h.config.dids).toContain(callTo);
    const id = /^Verification (\S+) for \+12025559001: waiting for the call\.\.\.$/.exec(r.out[1] ?? '')?.[1];
    expect(id).toBeDefined();

    // The real verify path: the call worker's matching script, as a CallEvent from the edge would drive it.
    const connection = new Redis(testRedis.url, { maxRetriesPerRequest: null });
    const worker = new CallWorker({
      connection, prefix: h.prefix, autorun: false,
      emitter: { emit: async () => { throw new Error('no webhook expected: the session has no callbackUrl'); } },
      metrics: createVerifyMetrics(h.registry),
      audit: new AuditLog({ redis: connection, prefix: h.prefix }),
    });
    try {
      const result = await worker.handle({
        v: 1, trunk: 'test', source: { address: '127.0.0.1', port: 5060 }, transport: 'udp', callId: `cli-test-${id}`,
        cli: '+12025559001', cliOrigin: 'pai', cliRaw: '+12025559001', did: callTo, didRaw: callTo,
        verstat: null, identity: null, userAgent: null, rejectCode: 486, receivedAt: Date.now(),
      });
      expect(result.outcome).toBe('verified');
    } finally {
      await worker.close();
      connection.disconnect();
    }
    await r.done;
    expect(r.exitCode).toBe(0);
    expect(r.out.at(-1)).toMatch(/^Verified: \+12025559001 called \+\d+/);
    expect(r.err).toEqual([]);
  });

  it('start exits 1 with the outcome when the session is cancelled while waiting; cancel exits 0', async () => {
    const r = run(['verify', 'start', '+12025559002', '--ttl', '60', ...api()]);
    await until(() => r.out.length >= 2);
    const id = /^Verification (\S+) for/.exec(r.out[1] ?? '')?.[1] ?? '';
    const c = run(['verify', 'cancel', id, ...api()]);
    await c.done;
    expect(c.exitCode).toBe(0);
    expect(c.out).toEqual([`Cancelled: verification ${id} was cancelled`]);
    await r.done;
    expect(r.exitCode).toBe(1);
    expect(r.out.at(-1)).toBe(`Cancelled: verification ${id} was cancelled`);
    // Cancelling again: still cancelled, still 0.
    const again = run(['verify', 'cancel', id, ...api()]);
    await again.done;
    expect(again.exitCode).toBe(0);
  });

  it('start --no-wait --json prints the created session as JSON and exits 0; status --json reads it back', async () => {
    const r = run(['verify', 'start', '+12025559003', '--no-wait', '--json', '--ttl', '90', ...api()]);
    await r.done;
    expect(r.exitCode).toBe(0);
    expect(r.out).toHaveLength(1);
    const created = JSON.parse(r.out[0]!);
    expect(created).toMatchObject({ status: 'pending', phoneNumber: '+12025559003' });
    expect(Date.parse(created.expiresAt) - Date.parse(created.createdAt)).toBe(90_000);

    const s = run(['verify', 'status', created.id, '--json', ...api()]);
    await s.done;
    expect(s.exitCode).toBe(0);
    expect(JSON.parse(s.out[0]!)).toEqual(created);

    const text = run(['verify', 'status', created.id, ...api()]);
    await text.done;
    expect(text.out).toContain('status:      pending');
    expect(text.out).toContain(`callTo:      ${created.callTo}`);
  });

  it('reads the API URL and key from RINGPROOF_API_URL / RINGPROOF_API_KEY', async () => {
    const r = run(['verify', 'start', '+12025559004', '--no-wait'], { env: { RINGPROOF_API_URL: h.baseUrl, RINGPROOF_API_KEY: TOKEN } });
    await r.done;
    expect(r.exitCode).toBe(0);
    expect(r.out[0]).toMatch(/^Call \+\d+ now/);
  });

  it('exits 2 with the API message on validation, auth and not-found errors', async () => {
    const ttl = run(['verify', 'start', '+12025559005', '--ttl', '30', ...api()]);
    await ttl.done;
    expect(ttl.exitCode).toBe(2);
    expect(ttl.err).toEqual(['error: body/ttlSeconds must be >= 60 (RP_API_VALIDATION, HTTP 400)']);

    const noKey = run(['verify', 'status', 'vrf_x', '--api', h.baseUrl]);
    await noKey.done;
    expect(noKey.exitCode).toBe(2);
    expect(noKey.err[0]).toMatch(/^error: missing Authorization header .*\(RP_API_UNAUTHORIZED, HTTP 401\)$/);

    const missing = run(['verify', 'cancel', 'vrf_nope', '--json', ...api()]);
    await missing.done;
    expect(missing.exitCode).toBe(2);
    expect(JSON.parse(missing.err[0]!)).toEqual({ error: { code: 'RP_API_NOT_FOUND', message: 'verification vrf_nope not found', status: 404 } });
  });

  it('exits 2 when the API cannot be reached', async () => {
    const port = await freePort();
    const r = run(['verify', 'status', 'vrf_x', '--api', `http://127.0.0.1:${port}`]);
    await r.done;
    expect(r.exitCode).toBe(2);
    expect(r.err[0]).toMatch(new RegExp(`^error: cannot reach the ringproof API at http://127\\.0\\.0\\.1:${port}: ECONNREFUSED`));
  });

  it('stops waiting after expiry plus grace when the session stays pending (no worker) and exits 1', async () => {
    // A clock that jumps past expiresAt + grace on the first poll: no worker runs here to expire it.
    let polls = 0;
    const r = run(['verify', 'start', '+12025559006', ...api()], {
      now: () => (polls++ === 0 ? Date.now() : Date.now() + 3_600_000),
      sleep: async () => undefined,
    });
    await r.done;
    expect(r.exitCode).toBe(1);
    expect(r.out.at(-1)).toMatch(/^Pending: still waiting/);
    expect(r.err).toEqual(['the session is still pending after it expired: is a ringproof worker running?']);
  });

  it('refuses a non-numeric --ttl before calling the API', async () => {
    const r = run(['verify', 'start', '+12025559007', '--ttl', 'soon', ...api()], {});
    await expect(r.done).rejects.toThrow(/must be a whole number of seconds/);
    expect(r.exitCode).toBeUndefined();
  });
});
