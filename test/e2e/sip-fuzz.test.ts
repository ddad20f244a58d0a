/**
 * The CI slice of `npm run fuzz:sip`: 50,000 mutated SIP messages (RFC 4475, SIPp and carrier seeds)
 * over UDP and TCP, with random segmentation, garbage and half-open connections, against a real
 * daemon on loopback. The daemon must answer OPTIONS and a well-formed INVITE over both transports
 * after every batch, and must not crash. The seed is fixed so that a failure here replays exactly
 * with the command in the message; `npm run fuzz:sip` draws a new seed each run.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, cleanEnv } from '../helpers/daemon-process.js';

const SEED = 20261207;
const MESSAGES = 50_000;

interface FuzzReport {
  seed: number;
  sent: number;
  udpSent: number;
  tcpSent: number;
  answered: number;
  checks: number;
  checkFailures: string[];
  crashes: number;
  tcp: { connects: number; halfOpen: number; withGarbage: number };
  daemon: { requests: number; responses: number; drops: number; dropsByReason: Record<string, number> };
  rssBeforeMb: number;
  rssAfterMb: number;
}

function runFuzz(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'fuzz', 'run.mjs'), ...args], { cwd: REPO_ROOT, env: cleanEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-8000); });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('SIP fuzzing (CI slice of npm run fuzz:sip)', () => {
  it(`${MESSAGES.toLocaleString('en')} mutated messages over UDP and TCP: no crash, OPTIONS and INVITE answered after every batch`, async () => {
    const args = ['--messages', String(MESSAGES), '--batch', '5000', '--seed', String(SEED), '--json'];
    const r = await runFuzz(args);
    const replay = `replay: npm run fuzz:sip -- ${args.filter((a) => a !== '--json').join(' ')}\n${r.stderr}`;
    const report = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as FuzzReport;
    console.info(`fuzz slice: ${report.sent} sent, ${report.answered} answered, ${report.daemon?.drops} counted drops, ` +
      `${report.crashes} crashes, RSS ${report.rssBeforeMb?.toFixed(0)} → ${report.rssAfterMb?.toFixed(0)} MB`);
    expect(report.checkFailures, replay).toEqual([]);
    expect(report.crashes, replay).toBe(0);
    expect(r.code, replay).toBe(0);
    expect(report.sent).toBe(MESSAGES);
    expect(report.udpSent).toBeGreaterThan(0);
    expect(report.tcpSent).toBeGreaterThan(0);
    expect(report.tcp.halfOpen).toBeGreaterThan(0);
    expect(report.tcp.withGarbage).toBeGreaterThan(0);
    expect(report.checks).toBe(MESSAGES / 5000);
    // The mutations reach both the parser's error paths and the request paths behind it.
    expect(report.daemon.drops).toBeGreaterThan(0);
    expect(report.daemon.requests).toBeGreaterThan(0);
    expect(report.answered).toBeGreaterThan(0);
    // No leak worth the name: a fresh edge is ~100 MB; transactions and TCP buffers are bounded.
    expect(report.rssAfterMb).toBeLessThan(512);
  }, 120_000);
});
