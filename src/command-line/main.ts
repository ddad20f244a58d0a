#!/usr/bin/env node
import { Command } from 'commander';
import { registerBlocklistCommands } from './commands/blocklist-command.js';
import { registerConfigCommands } from './commands/config-command.js';
import { registerDidsCommands } from './commands/dids-command.js';
import { registerFlashCommands } from './commands/flash-command.js';
import { registerNumbersCommands } from './commands/numbers-command.js';
import { registerOpsCommands } from './commands/ops-commands.js';
import { registerServeCommand } from './commands/serve-command.js';
import { registerVerifyCommands } from './commands/verify-command.js';
import { VERSION } from '../version/version.js';

const program = new Command();
program.name('ringproof').description('SIP edge daemon for missed-call phone verification').version(VERSION);
registerServeCommand(program);
registerConfigCommands(program);
registerVerifyCommands(program);
registerOpsCommands(program);
registerNumbersCommands(program);
registerBlocklistCommands(program);
registerDidsCommands(program);
registerFlashCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`ringproof: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
