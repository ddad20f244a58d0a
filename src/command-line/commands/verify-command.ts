import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_API_URL, type VerifyClientOptions } from './verify-client-options.js';
import { runVerifyCancel } from './verify-cancel.js';
import { processVerifyIo, type VerifyIo } from './verify-io.js';
import { runVerifyStart, type VerifyStartOptions } from './verify-start.js';
import { runVerifyStatus } from './verify-status.js';

/**
 * Adds `verify start|status|cancel` to the program. `io` defaults to the real process (stdout,
 * stderr, environment, exit code); tests pass their own.
 */
export function registerVerifyCommands(program: Command, io: VerifyIo = processVerifyIo()): Command {
  const verify = program
    .command('verify')
    .description('create, watch and cancel phone verifications through the HTTP API');

  withClientOptions(verify.command('start')
    .description('start a verification, print the number to call, and wait for the outcome (exit 0 verified, 1 not, 2 API error)')
    .argument('<phoneNumber>', 'the number to verify, e.g. +12025550123 (national forms need --country)')
    .option('--ttl <seconds>', 'seconds the user has to call (server default 120)', parsePositiveInt)
    .option('--callback-url <url>', 'webhook URL for this session (https; http only to a loopback host, which webhooks.allowPrivateTargets must list)')
    .option('--country <CC>', 'ISO 3166-1 alpha-2 country for a national phone number')
    .option('--idempotency-key <key>', 'repeat-safe create: the same key returns the same session')
    .option('--no-wait', 'print the number to call and exit without waiting'))
    .action(async (phoneNumber: string, opts: VerifyStartOptions) => {
      io.setExitCode(await runVerifyStart(phoneNumber, opts, io));
    });

  withClientOptions(verify.command('status')
    .description('show a verification')
    .argument('<id>', 'verification id'))
    .action(async (id: string, opts: VerifyClientOptions) => {
      io.setExitCode(await runVerifyStatus(id, opts, io));
    });

  withClientOptions(verify.command('cancel')
    .description('cancel a pending verification (exit 0 cancelled, 1 already finished, 2 API error)')
    .argument('<id>', 'verification id'))
    .action(async (id: string, opts: VerifyClientOptions) => {
      io.setExitCode(await runVerifyCancel(id, opts, io));
    });

  return verify;
}

/** --api, --api-key and --json, as every command that talks to the HTTP API takes them. */
export function withClientOptions(cmd: Command): Command {
  return cmd
    .option('--api <url>', `API base URL (env RINGPROOF_API_URL, default ${DEFAULT_API_URL})`)
    .option('--api-key <key>', 'API key (prefer env RINGPROOF_API_KEY: flags are visible in ps)')
    .option('--json', 'print JSON instead of text');
}

function parsePositiveInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number of seconds');
  return Number(value);
}
