import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { generateWebhookSecret } from '../webhooks/webhook-secret.js';

/**
 * With no webhooks.secrets configured (the zero-config demo), webhooks are still signed: a secret is
 * generated once, kept in the state directory (mode 0600) so restarts keep it, and its path logged,
 * never the secret itself.
 */
export function demoWebhookSecret(stateDir: string, logger: Logger): string {
  const file = join(stateDir, 'webhook-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(stateDir, { recursive: true });
  const secret = generateWebhookSecret();
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  logger.warn({ file }, 'no webhooks.secrets configured: generated a signing secret for this install; configure your own for production');
  return secret;
}
