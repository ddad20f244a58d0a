import type { Command } from 'commander';
import { normalizePhoneNumber } from '../../api/normalize-phone-number.js';
import { loadConfig } from '../../config/load-config.js';
import { classifyReport, formatClassifyReport } from '../../numbers/classify-report.js';
import { loadNumberClassifier } from '../../numbers/number-classifier.js';
import { NumberPolicy } from '../../numbers/number-policy.js';

interface ClassifyOptions {
  config?: string;
  key?: string;
  country?: string;
  json?: boolean;
}

/** `ringproof numbers classify`: what the number policy of this configuration does with numbers, without a daemon. */
export function registerNumbersCommands(program: Command): void {
  program
    .command('numbers')
    .description('number intelligence: classification and the number policy')
    .command('classify')
    .argument('<number...>', 'phone numbers, international ("+44…") or national with --country')
    .option('-c, --config <file>', 'configuration file (its numbers policy, deny-prefix file and API keys)')
    .option('--key <name>', 'evaluate with this API key\'s policy overrides')
    .option('--country <cc>', 'ISO 3166-1 alpha-2 country for national forms')
    .option('--json', 'one JSON object per number')
    .description('print each number\'s country and type, and whether each verification method\'s policy allows it; exits 1 if a number cannot be read')
    .action(async (numbers: string[], o: ClassifyOptions) => {
      const config = loadConfig({ ...(o.config ? { file: o.config } : {}), env: process.env });
      if (o.key !== undefined && !config.api.keys.some((k) => k.name === o.key)) {
        throw new Error(`--key: no API key named "${o.key}" in the configuration`);
      }
      const policy = new NumberPolicy({ numbers: config.numbers, keys: config.api.keys });
      const classifier = await loadNumberClassifier();
      for (const text of numbers) {
        let e164: string;
        try {
          e164 = normalizePhoneNumber(text, o.country);
        } catch (err) {
          process.stderr.write(`${text}: ${err instanceof Error ? err.message.replace(/^body\//, '').replace('give "country"', 'give --country') : String(err)}\n`);
          process.exitCode = 1;
          continue;
        }
        const report = classifyReport(e164, classifier, policy, o.key);
        process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : `${formatClassifyReport(report).join('\n')}\n`);
      }
    });
}
