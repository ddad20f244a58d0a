import type { Command } from 'commander';
import { exportAudit } from '../../audit/audit-export.js';
import { listDeadLetters, purgeDeadLetters, replayDeadLetters } from '../../webhooks/dead-letters.js';
import { withRedis } from './redis-command-context.js';

function parseTime(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (Number.isNaN(t)) throw new Error(`${flag}: not a time (ISO 8601 or epoch ms): "${v}"`);
  return t;
}

/** `ringproof audit export` and `ringproof webhooks dead-letters ...`: ops tools that read Redis. */
export function registerOpsCommands(program: Command): void {
  program
    .command('audit')
    .description('the consent/audit trail')
    .command('export')
    .description('write the audit trails as JSON lines to stdout: "evidence" (session events, calls that concern a session) then "noise" (capped record of unsolicited calls); each line names its trail')
    .option('-c, --config <file>', 'configuration file (for Redis location and key prefix)')
    .option('--since <time>', 'ISO 8601 time or epoch ms (inclusive)')
    .option('--until <time>', 'ISO 8601 time or epoch ms (inclusive)')
    .option('--trail <trail>', 'evidence, noise or all', 'all')
    .action(async (o: { config?: string; since?: string; until?: string; trail: string }) => {
      const since = parseTime(o.since, '--since');
      const until = parseTime(o.until, '--until');
      if (!['evidence', 'noise', 'all'].includes(o.trail)) throw new Error(`--trail: evidence, noise or all, got "${o.trail}"`);
      const trails = o.trail === 'all' ? undefined : [o.trail as 'evidence' | 'noise'];
      const n = await withRedis(o.config, (redis, prefix) => exportAudit(redis, prefix, process.stdout, {
        ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}), ...(trails ? { trails } : {}),
      }));
      process.stderr.write(`exported ${n} audit records\n`);
    });

  const dl = program.command('webhooks').description('webhook delivery').command('dead-letters').description('webhooks that exhausted their attempts');
  dl.command('list')
    .option('-c, --config <file>', 'configuration file')
    .option('-n, --limit <n>', 'how many, newest first', '50')
    .action(async (o: { config?: string; limit: string }) => {
      const entries = await withRedis(o.config, (redis, prefix) => listDeadLetters(redis, prefix, Number(o.limit)));
      for (const e of entries) process.stdout.write(`${JSON.stringify({ index: e.index, ...(e.record ?? { raw: e.raw }) })}\n`);
    });
  dl.command('replay')
    .argument('<target>', 'list index, or "all"')
    .option('-c, --config <file>', 'configuration file')
    .action(async (target: string, o: { config?: string }) => {
      const t = target === 'all' ? 'all' : Number(target);
      if (t !== 'all' && !Number.isInteger(t)) throw new Error(`target: expected an index or "all", got "${target}"`);
      const r = await withRedis(o.config, (redis, prefix, config) => replayDeadLetters(redis, prefix, t, { maxAttempts: config.webhooks.maxAttempts }));
      process.stdout.write(`${JSON.stringify(r)}\n`);
    });
  dl.command('purge')
    .option('-c, --config <file>', 'configuration file')
    .action(async (o: { config?: string }) => {
      const n = await withRedis(o.config, (redis, prefix) => purgeDeadLetters(redis, prefix));
      process.stdout.write(`purged ${n} dead letters\n`);
    });
}
