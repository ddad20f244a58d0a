/**
 * ringproof scaled out on a real Redis Sentinel group (master, replica, 3 sentinels, on loopback):
 * 2 edge processes, 2 worker processes and 1 API process, with the master switched mid-burst, first
 * by a manual failover, then by a SIGKILL. The tests share the deployment and run in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedisSentinel, type RedisNode, type TestRedisSentinel } from '../helpers/redis-cluster.js';
import { burst, createSessions, expectEachVerifiedOnce, spooledBy, startDeployment, type Deployment } from '../helpers/scale-out.js';
import { phoneNumbers } from '../helpers/verify-e2e.js';

let sentinel: TestRedisSentinel;
let dep: Deployment;

beforeAll(async () => {
  sentinel = await startTestRedisSentinel();
  dep = await startDeployment(sentinel.url);
}, 90_000);

afterAll(async () => {
  await dep?.stop();
  await sentinel?.stop();
}, 60_000);

async function master(): Promise<RedisNode> {
  const m = await sentinel.currentMaster();
  if (!m) throw new Error('the sentinels do not agree on a master');
  return m;
}

describe('Redis Sentinel: 2 edges, 2 workers, 1 API', () => {
  it('a) a burst through a manual failover (writes paused, SENTINEL FAILOVER): nothing lost, no duplicate webhooks', async () => {
    const sessions = await createSessions(dep, phoneNumbers(51, 200));
    const old = await master();
    const spooledBefore = await spooledBy(dep);
    let switchedAt = 0;
    const { actionAt } = await burst(dep, sessions, {
      during: {
        afterMs: 800,
        action: async () => {
          await sentinel.switchover();
          switchedAt = Date.now();
        },
      },
    });
    const now = await master();
    expect(now.port).not.toBe(old.port);
    expect(old.alive(), 'a manual failover keeps the old master, as a replica').toBe(true);

    const r = await expectEachVerifiedOnce(dep, sessions, 60_000);
    expect(r.unexplained, `sessions whose webhook was POSTed twice without a failed attempt before (${r.redelivered} POSTed twice in all)`).toBe(0);
    console.info(`sentinel a) manual failover :${old.port} → :${now.port} in ${switchedAt - actionAt} ms; longest gap between verified webhooks ` +
      `${r.longestGapMs} ms; last webhook ${Math.max(...r.deliveries.times) - actionAt} ms after SENTINEL FAILOVER; ` +
      `edges spooled ${await spooledBy(dep) - spooledBefore} events`);
  }, 120_000);

  it('b) a burst through a SIGKILLed master: the sentinels promote the replica; nothing lost, no duplicate webhooks', async () => {
    const sessions = await createSessions(dep, phoneNumbers(52, 200));
    const old = await master();
    const spooledBefore = await spooledBy(dep);
    let promotedAt = 0;
    const { actionAt: killedAt } = await burst(dep, sessions, {
      during: {
        afterMs: 800,
        action: async () => {
          await old.kill('SIGKILL');
          await sentinel.waitNewMaster(old.port);
          promotedAt = Date.now();
        },
      },
    });
    const now = await master();
    expect(now.port).not.toBe(old.port);

    const r = await expectEachVerifiedOnce(dep, sessions, 60_000);
    expect(r.unexplained, `sessions whose webhook was POSTed twice without a failed attempt before (${r.redelivered} POSTed twice in all)`).toBe(0);
    console.info(`sentinel b) master :${old.port} SIGKILLed; :${now.port} promoted after ${promotedAt - killedAt} ms; longest gap between ` +
      `verified webhooks ${r.longestGapMs} ms; last webhook ${Math.max(...r.deliveries.times) - killedAt} ms after the kill; ` +
      `edges spooled ${await spooledBy(dep) - spooledBefore} events`);
  }, 120_000);
});
