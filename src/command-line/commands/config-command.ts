import type { Command } from 'commander';
import { checkConfigFile } from '../../config/check-config.js';
import { hashApiKey } from '../../config/hash-api-key.js';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('configuration tools');
  config
    .command('check')
    .argument('<file>', 'YAML configuration file')
    .description('validate a configuration file (with the current environment overrides) without starting')
    .action((file: string) => {
      const r = checkConfigFile(file, process.env);
      if (r.ok) process.stdout.write(`${r.summary}\n`);
      else {
        process.stderr.write(`ringproof: ${r.code ? `${r.code}: ` : ''}${r.error}\n`);
        process.exitCode = 78;
      }
    });
  config
    .command('hash-key')
    .argument('<token>', 'API bearer token')
    .description('print the hash to put under api.keys[].hash for a bearer token')
    .action((token: string) => {
      process.stdout.write(`${hashApiKey(token)}\n`);
    });
}
