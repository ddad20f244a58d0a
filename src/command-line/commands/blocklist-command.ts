import { Command, InvalidArgumentError } from 'commander';
import type { BlocklistResource } from '../api-client.js';
import { clientFor, type VerifyClientOptions } from './verify-client-options.js';
import { withClientOptions } from './verify-command.js';
import { EXIT_OK, processVerifyIo, type VerifyIo } from './verify-io.js';
import { reportError } from './verify-output.js';

interface AddOptions extends VerifyClientOptions {
  reason: string;
  note?: string;
  ttl?: number;
  expires?: string;
}

const KINDS = ['number', 'prefix', 'name'];

function describe(e: BlocklistResource): string {
  const until = e.expiresAt === null ? 'no expiry' : `until ${e.expiresAt}`;
  return `${e.kind}\t${e.value}\t${e.reason}\t${until}\tby ${e.createdBy}${e.note === undefined ? '' : `\t${e.note}`}`;
}

/**
 * `ringproof blocklist list|add|remove` through the HTTP API, which needs an admin key
 * (RINGPROOF_API_KEY, or a loopback client when the API has no keys). Exit 0, or 2 on an API error.
 */
export function registerBlocklistCommands(program: Command, io: VerifyIo = processVerifyIo()): Command {
  const blocklist = program.command('blocklist').description('list, add and remove blocklist entries (numbers, prefixes, caller names) through the HTTP API; needs an admin API key');

  withClientOptions(blocklist.command('list').description('print the entries in force: kind, value, reason, expiry, author'))
    .action(async (opts: VerifyClientOptions) => {
      io.setExitCode(await run(io, opts, async (client) => {
        const entries = await client.listBlocklist();
        if (opts.json) io.out(JSON.stringify(entries));
        else if (entries.length === 0) io.out('the blocklist is empty');
        else for (const e of entries) io.out(describe(e));
      }));
    });

  withClientOptions(blocklist.command('add')
    .description('block a caller number, a number prefix, or a caller name (From display name)')
    .argument('<kind>', `one of ${KINDS.join(', ')}`, parseKind)
    .argument('<value>', 'E.164 number, "+" prefix, or caller name')
    .requiredOption('--reason <reason>', 'short machine-readable reason, e.g. fraud (A-Z a-z 0-9 _ . : -)')
    .option('--note <text>', 'free text for people')
    .option('--ttl <seconds>', 'lapse after this many seconds', parsePositiveInt)
    .option('--expires <time>', 'lapse at this ISO 8601 time'))
    .action(async (kind: string, value: string, opts: AddOptions) => {
      io.setExitCode(await run(io, opts, async (client) => {
        const body: Record<string, unknown> = { kind, value, reason: opts.reason };
        if (opts.note !== undefined) body.note = opts.note;
        if (opts.ttl !== undefined) body.ttlSeconds = opts.ttl;
        if (opts.expires !== undefined) body.expiresAt = opts.expires;
        const e = await client.addBlocklist(body);
        io.out(opts.json ? JSON.stringify(e) : `added: ${describe(e)}`);
      }));
    });

  withClientOptions(blocklist.command('remove')
    .description('remove an entry (also lifts an automatic block)')
    .argument('<kind>', `one of ${KINDS.join(', ')}`, parseKind)
    .argument('<value>', 'the entry\'s value'))
    .action(async (kind: string, value: string, opts: VerifyClientOptions) => {
      io.setExitCode(await run(io, opts, async (client) => {
        await client.removeBlocklist(kind, value);
        io.out(opts.json ? JSON.stringify({ removed: { kind, value } }) : `removed: ${kind} ${value}`);
      }));
    });
  return blocklist;
}

async function run(io: VerifyIo, opts: VerifyClientOptions, body: (client: ReturnType<typeof clientFor>) => Promise<void>): Promise<number> {
  try {
    await body(clientFor(opts, io));
    return EXIT_OK;
  } catch (err) {
    return reportError(err, io, opts.json);
  }
}

function parseKind(value: string): string {
  if (!KINDS.includes(value)) throw new InvalidArgumentError(`must be one of ${KINDS.join(', ')}`);
  return value;
}

function parsePositiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a whole number of seconds');
  return Number(value);
}
