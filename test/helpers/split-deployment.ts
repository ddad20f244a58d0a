import { afterAll, beforeAll } from 'vitest';
import { startTestRedis, stopAndClean, type TestRedis } from './redis-server.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';
import { newWebhookSecret, startVerifyDaemon, type DaemonRole, type VerifyDaemon } from './verify-e2e.js';

/** ringproof split by role (edge, api, worker processes) on one real Redis, with one real webhook receiver. */
export interface SplitDeployment {
  readonly redis: TestRedis;
  readonly receiver: WebhookReceiver;
  /** The webhook signing secret every daemon gets. */
  readonly secret: string;
  /** Every daemon started, in start order (all stopped after the file). */
  readonly daemons: readonly VerifyDaemon[];
  /** `ringproof serve` in one role on this Redis, posting to the receiver; `configYaml` as --config. */
  start(name: string, role: DaemonRole, configYaml?: string): Promise<VerifyDaemon>;
}

/**
 * Registers the file's hooks (call at module level, before the file's own beforeAll, which then
 * starts the daemons it needs): Redis and the receiver start first; after the file every daemon is
 * stopped, then the receiver and Redis.
 */
export function useSplitDeployment(dids: readonly string[]): SplitDeployment {
  let redis: TestRedis | undefined;
  let receiver: WebhookReceiver | undefined;
  const secret = newWebhookSecret();
  const daemons: VerifyDaemon[] = [];
  beforeAll(async () => {
    redis = await startTestRedis();
    receiver = await startWebhookReceiver();
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(daemons.map((d) => d.stop()));
    await receiver?.close();
    if (redis) await stopAndClean(redis);
  }, 60_000);
  return {
    get redis() { return redis as TestRedis; },
    get receiver() { return receiver as WebhookReceiver; },
    secret,
    daemons,
    async start(name, role, configYaml) {
      const d = await startVerifyDaemon({
        name, role, redisUrl: (redis as TestRedis).url, webhookSecret: secret, webhookUrl: (receiver as WebhookReceiver).url, dids,
        ...(configYaml !== undefined ? { configYaml } : {}),
      });
      daemons.push(d);
      return d;
    },
  };
}
