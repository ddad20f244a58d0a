import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/config/hash-api-key.js';
import { generateWebhookSecret } from '../../src/webhooks/webhook-secret.js';
import { startDaemonProcess, type DaemonProcess } from '../helpers/daemon-process.js';
import { freePort } from '../helpers/free-port.js';

// Start-up checks an operator relies on before exposing the daemon: /metrics on a listener of its
// own, and a loud warning (without the secret) when the config file with secrets is world-readable.
const WEBHOOK_SECRET = generateWebhookSecret();
const API_HASH = hashApiKey('rp_security_test_token_0123456789');
const REDIS_PASSWORD = 'redis-pass-7b1f0c9e';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ringproof-security-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A config file holding three kinds of secret; no Redis is used (edge role, log sink). */
function secretConfig(name: string, mode: number): string {
  const file = join(dir, name);
  writeFileSync(file, [
    'role: edge',
    'events:',
    '  sink: log',
    'redis:',
    `  url: redis://:${REDIS_PASSWORD}@127.0.0.1:1/0`,
    'webhooks:',
    `  secrets: ["${WEBHOOK_SECRET}"]`,
    'api:',
    '  keys:',
    `    - name: app`,
    `      hash: "${API_HASH}"`,
    '',
  ].join('\n'));
  chmodSync(file, mode);
  return file;
}

function everything(d: DaemonProcess): string {
  return [...d.logs.stdout, ...d.logs.stderr].join('\n');
}

describe('config file holding secrets', () => {
  it('readable by other users: one warning naming the file, the keys and the mode, and no secret in any output', async () => {
    const file = secretConfig('open.yaml', 0o644);
    const d = await startDaemonProcess({ configFile: file });
    try {
      const warning = await d.logs.waitFor((r) => typeof r.msg === 'string' && r.msg.startsWith('config file '));
      expect(warning.level).toBe('warn');
      expect(warning.file).toBe(file);
      expect(warning.keys).toEqual(['webhooks.secrets', 'api.keys', 'redis.url']);
      expect(warning.mode).toBe('0644');
      expect(warning.msg).toContain('chmod 600');
      const out = everything(d);
      expect(out).not.toContain(WEBHOOK_SECRET);
      expect(out).not.toContain(WEBHOOK_SECRET.slice(6, 30));
      expect(out).not.toContain(API_HASH.slice(7));
      expect(out).not.toContain(REDIS_PASSWORD);
    } finally {
      await d.stop();
    }
  });

  it('mode 0600: no warning', async () => {
    const file = secretConfig('closed.yaml', 0o600);
    const d = await startDaemonProcess({ configFile: file });
    try {
      await d.logs.waitFor((r) => r.msg === 'HTTP listening');
      expect(d.logs.json().filter((r) => typeof r.msg === 'string' && r.msg.startsWith('config file '))).toEqual([]);
      expect(everything(d)).not.toContain(WEBHOOK_SECRET);
    } finally {
      await d.stop();
    }
  });
});

describe('metrics.listen', () => {
  let d: DaemonProcess;
  let metricsPort: number;
  beforeAll(async () => {
    metricsPort = await freePort();
    d = await startDaemonProcess({ env: { RINGPROOF_METRICS_LISTEN: `127.0.0.1:${metricsPort}` } });
  });
  afterAll(async () => {
    await d?.stop();
  });

  it('serves /metrics on its own listener and no longer on http.listen, which keeps health and readiness', async () => {
    const own = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(own.status).toBe(200);
    expect(await own.text()).toContain('ringproof_');
    expect((await fetch(`${d.baseUrl}/metrics`)).status).toBe(404);
    expect((await fetch(`${d.baseUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${d.baseUrl}/readyz`)).status).toBe(200);
    // Only /metrics lives on the metrics listener.
    expect((await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).status).toBe(404);
    const line = await d.logs.waitFor((r) => r.msg === 'metrics listening');
    expect(line.metrics).toBe(`127.0.0.1:${metricsPort}`);
  });
});
