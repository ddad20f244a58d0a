import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { callMessages, ladder, startSippUas } from '../helpers/sipp-uas.js';

/** `ringproof flash call` (the built CLI, as an operator runs it) against SIPp as the carrier and the phone. */
const MAIN = fileURLToPath(new URL('../../dist/command-line/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ringproof-flash-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function ringproof(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH ?? '' }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out: stdout, err: stderr });
    });
  });
}

function configFor(port: number, extra = ''): string {
  const file = join(dir, `c${n++}.yaml`);
  writeFileSync(file, [
    'outbound:',
    '  bindAddress: 127.0.0.1',
    '  minRingMs: 200',
    '  trunks:',
    '    - name: lab',
    `      target: udp:127.0.0.1:${port}`,
    '      cliPool: ["+4420794600XX"]',
    extra,
  ].join('\n'));
  return file;
}

describe('ringproof flash call', () => {
  it('rings once from the pool, cancels after the ring and prints the outcome, the CLI and its code', async () => {
    const carrier = await startSippUas({ scenario: 'uas-flash-ring.xml', transport: 'udp', calls: 1, timeoutMs: 15_000 });
    const r = await ringproof(['flash', 'call', '+447911123456', '-c', configFor(carrier.port), '--json']);
    const sipp = await carrier.done;
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(sipp.exitCode).toBe(0);
    const out = JSON.parse(r.out) as { outcome: string; cli: string; code: string; cancelConfirmed: boolean; attempts: Array<{ callId: string; trunk: string }> };
    expect(out).toMatchObject({ outcome: 'rang', cancelConfirmed: true, trunk: 'lab' });
    expect(out.cli).toMatch(/^\+4420794600\d{2}$/);
    expect(out.cli.endsWith(out.code)).toBe(true);
    const call = callMessages(sipp.wire, out.attempts[0]!.callId);
    expect(ladder(call)).toEqual(['in INVITE', 'out 100 INVITE', 'out 180 INVITE', 'in CANCEL', 'out 200 CANCEL', 'out 487 INVITE', 'in ACK']);
    expect(call[0]!.header('From')).toContain(`<sip:${out.cli}@`);
    expect(call[0]!.text.split('\n')[0]).toContain('sip:+447911123456@');
  });

  it('refuses before anything is sent: no trunk configured, an unknown trunk, a number the flash_call policy refuses', async () => {
    const carrier = await startSippUas({ scenario: 'uas-flash-ring.xml', transport: 'udp', calls: 1, timeoutMs: 3000 });
    const none = await ringproof(['flash', 'call', '+447911123456']);
    expect(none.code).toBe(1);
    expect(none.err).toContain('no outbound trunk is configured (outbound.trunks)');
    const unknown = await ringproof(['flash', 'call', '+447911123456', '-c', configFor(carrier.port), '--trunk', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('no outbound trunk named "nope"');
    const gbOnly = configFor(carrier.port, 'numbers:\n  policy:\n    flash_call:\n      allowCountries: [GB]\n');
    const refused = await ringproof(['flash', 'call', '+33612345678', '-c', gbOnly]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('refused by country_not_allowed');
    const fixed = await ringproof(['flash', 'call', '+442071234567', '-c', configFor(carrier.port)]);
    expect(fixed.code).toBe(1);
    expect(fixed.err).toContain('refused by type_not_allowed');
    expect((await carrier.done).wire).toEqual([]);
  });
});
