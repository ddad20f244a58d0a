import type { Command } from 'commander';
import { normalizePhoneNumber } from '../../api/normalize-phone-number.js';
import { loadConfig } from '../../config/load-config.js';
import { ErrorCodes } from '../../errors/codes.js';
import { RingproofError } from '../../errors/ringproof-error.js';
import { CliPool, type CliDraw } from '../../flash/cli-pool.js';
import { createLogger } from '../../log/logger.js';
import { loadNumberClassifier } from '../../numbers/number-classifier.js';
import { NumberPolicy } from '../../numbers/number-policy.js';
import { createFlashUac } from '../../sip/engines/index.js';
import type { FlashCallResult } from '../../sip/uac/index.js';

interface FlashCallOptions {
  config?: string;
  country?: string;
  trunk?: string[];
  json?: boolean;
}

/** Plain-text lines of a result: the outcome, then one line per trunk tried. */
function formatResult(r: FlashCallResult, code: string | undefined): string[] {
  const lines = [`outcome ${r.outcome}${r.failureClass ? ` (${r.failureClass})` : ''}${r.cli ? `  cli ${r.cli}` : ''}${code ? `  code ${code}` : ''}`];
  for (const a of r.attempts) {
    const reason = a.reason ? `  Q.850 ${a.reason.cause}${a.reason.text ? ` "${a.reason.text}"` : ''}` : '';
    lines.push(
      `  ${a.trunk}: ${a.outcome}${a.failureClass ? ` (${a.failureClass})` : ''}  statuses ${a.statuses.join(',') || 'none'}` +
      `  post-dial ${a.postDialDelayMs ?? '-'} ms  ring ${a.ringMs ?? '-'} ms${a.cancelSent ? '  cancelled' : ''}${a.byeStatus ? `  BYE ${a.byeStatus}` : ''}${reason}`,
    );
  }
  return lines;
}

/**
 * `ringproof flash call`: one flash call through the configured outbound trunks, for trunk bring-up:
 * the same UAC, caps, caller-ID pool and number policy (flash_call) as the daemon. Only configured
 * trunks are ever called; a number the policy refuses is never rung.
 */
export function registerFlashCommands(program: Command): void {
  program
    .command('flash')
    .description('outbound flash calls (issue #12)')
    .command('call')
    .argument('<number>', 'the phone to ring, international ("+44…") or national with --country')
    .option('-c, --config <file>', 'configuration file (outbound trunks, sip timers, number policy)')
    .option('--country <cc>', 'ISO 3166-1 alpha-2 country for a national form')
    .option('--trunk <name...>', 'outbound trunks to try, in order (default: all, in configuration order)')
    .option('--json', 'print the result as one JSON object')
    .description('ring a number once from the caller-ID pool, cancel after the ring, print what happened; exits 0 when it rang')
    .action(async (number: string, o: FlashCallOptions) => {
      const config = loadConfig({ ...(o.config ? { file: o.config } : {}), env: process.env });
      if (config.outbound.trunks.length === 0) {
        throw new RingproofError(ErrorCodes.FLASH_CALL_UNAVAILABLE, 'flash calls are off: no outbound trunk is configured (outbound.trunks)');
      }
      const trunks = o.trunk ?? config.outbound.trunks.map((t) => t.name);
      const unknown = trunks.find((n) => !config.outbound.trunks.some((t) => t.name === n));
      if (unknown !== undefined) throw new RingproofError(ErrorCodes.FLASH_TRUNK_UNKNOWN, `--trunk: no outbound trunk named "${unknown}"`);
      const e164 = normalizePhoneNumber(number, o.country);
      const policy = new NumberPolicy({ numbers: config.numbers, keys: config.api.keys });
      const verdict = policy.evaluate(e164, (await loadNumberClassifier()).classify(e164), 'flash_call');
      policy.close();
      if (!verdict.allowed) throw new RingproofError(ErrorCodes.NUMBER_REFUSED, `${e164}: refused by ${verdict.rule}: ${verdict.message}`);

      const pool = new CliPool(config.outbound.trunks);
      const draws = new Map<string, CliDraw>();
      // The configured engine's UAC: with sip.engine drachtio the call goes out through drachtio-server.
      const uac = createFlashUac(config.outbound, config.sip, createLogger({ level: 'warn', destination: process.stderr }));
      await uac.start();
      try {
        const result = await uac.place({
          to: e164,
          trunks,
          cli: (trunk) => {
            const d = pool.draw(trunk, e164);
            if (d) draws.set(d.cli, d);
            return d?.cli;
          },
        });
        const code = result.cli === undefined ? undefined : draws.get(result.cli)?.code;
        process.stdout.write(o.json ? `${JSON.stringify({ ...result, code })}\n` : `${formatResult(result, code).join('\n')}\n`);
        if (result.outcome !== 'rang') process.exitCode = 1;
      } finally {
        await uac.stop();
      }
    });
}
