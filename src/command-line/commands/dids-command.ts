import type { Command } from 'commander';
import { toDid } from '../../dids/did-number.js';
import { DidPool, type DidRecord, type DidView } from '../../dids/did-pool.js';
import { withRedis } from './redis-command-context.js';

/** A DID argument in E.164, or an error naming it. */
function didArgument(text: string): string {
  const did = toDid(text);
  if (did === undefined) throw new Error(`did: ${JSON.stringify(text)} is not an E.164 number such as "+15550100001"`);
  return did;
}

function line(r: DidRecord | DidView): string {
  return `${JSON.stringify(r)}\n`;
}

function withPool<T>(config: string | undefined, fn: (pool: DidPool) => Promise<T>): Promise<T> {
  return withRedis(config, (redis, prefix, c) => fn(new DidPool(redis, prefix, c.didPool)));
}

/**
 * `ringproof dids list|add|release|restore`: the DID pool in Redis, as /v1/dids manages it (same
 * rules, same records), for the operator on a machine that reaches the daemon's Redis. The pool is
 * seeded from the configuration's dids by the daemon's API role, not by these commands.
 */
export function registerDidsCommands(program: Command): void {
  const dids = program.command('dids').description('the DID pool: numbers sessions are given to call (README "DID pool")');
  dids.command('list')
    .description('every DID of the pool as a JSON line: status (active, quarantined), source, quarantineUntil, unwantedCalls in the quiet window')
    .option('-c, --config <file>', 'configuration file (for Redis location, key prefix and didPool settings)')
    .action(async (o: { config?: string }) => {
      for (const r of await withPool(o.config, (pool) => pool.list())) process.stdout.write(line(r));
    });
  dids.command('add')
    .description('put a DID in service')
    .argument('<did>', 'E.164, e.g. +15550100001')
    .option('-c, --config <file>', 'configuration file')
    .action(async (text: string, o: { config?: string }) => {
      const did = didArgument(text);
      const { record } = await withPool(o.config, (pool) => pool.add(did));
      process.stdout.write(line(record));
    });
  dids.command('release')
    .description('take a DID out of service into quarantine (didPool.quarantineDays unless --days)')
    .argument('<did>', 'E.164')
    .option('-c, --config <file>', 'configuration file')
    .option('--reason <text>', 'why, kept with the record')
    .option('--days <n>', 'quarantine days for this DID')
    .action(async (text: string, o: { config?: string; reason?: string; days?: string }) => {
      const did = didArgument(text);
      const days = o.days === undefined ? undefined : Number(o.days);
      if (days !== undefined && !(Number.isInteger(days) && days >= 0 && days <= 3650)) throw new Error(`--days: an integer from 0 to 3650, got "${o.days}"`);
      const record = await withPool(o.config, (pool) => pool.release(did, {
        ...(o.reason !== undefined ? { reason: o.reason } : {}), ...(days !== undefined ? { quarantineDays: days } : {}),
      }));
      process.stdout.write(line(record));
    });
  dids.command('unflag')
    .description('remove the automatic flag of a DID (an unwanted-call spike) once it has been looked at')
    .argument('<did>', 'E.164')
    .option('-c, --config <file>', 'configuration file')
    .action(async (text: string, o: { config?: string }) => {
      const did = didArgument(text);
      process.stdout.write(line(await withPool(o.config, (pool) => pool.unflag(did))));
    });
  dids.command('restore')
    .description('put a quarantined DID back in service: after its quarantine (or --force) and only once it has gone quiet')
    .argument('<did>', 'E.164')
    .option('-c, --config <file>', 'configuration file')
    .option('--force', 'before the quarantine ends (a release made by mistake); a DID still drawing unwanted calls is never restored')
    .action(async (text: string, o: { config?: string; force?: boolean }) => {
      const did = didArgument(text);
      process.stdout.write(line(await withPool(o.config, (pool) => pool.restore(did, { force: o.force === true }))));
    });
}
