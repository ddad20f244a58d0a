import type { Command } from 'commander';
import { loadConfig, type FlagOverrides } from '../../config/load-config.js';
import { securityWarnings } from '../../config/security-warnings.js';
import type { RingproofConfig } from '../../config/config-types.js';
import { startDaemon, type Daemon } from '../../daemon/daemon.js';
import { ErrorCodes } from '../../errors/codes.js';
import { isRingproofError } from '../../errors/ringproof-error.js';
import { createLogger, type Logger } from '../../log/logger.js';
import { maskNumber } from '../../log/mask.js';
import { VERSION } from '../../version/version.js';

/** What commander hands the action: one field per flag override, plus --config. */
interface ServeOptions extends FlagOverrides {
  config?: string;
}

/**
 * Exit status when the embedded redis-server exited by itself during the shutdown (75, EX_TEMPFAIL:
 * nothing lost, the next start replays the spool).
 */
const EXIT_REDIS_LOST = 75;

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the daemon (SIP edge, workers and HTTP API, per --role)')
    .option('-c, --config <file>', 'YAML configuration file (env RINGPROOF_CONFIG)')
    .option('--sip-listen <spec>', 'SIP listen address, e.g. udp:0.0.0.0:5060 (repeatable or comma-separated)', collect)
    .option('--http-listen <host:port>', 'HTTP listen address for metrics, health and API')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
    .option('--role <role>', 'all|edge|worker|api')
    .option('--state-dir <dir>', 'directory for embedded Redis data and the event spool')
    .option('--engine <engine>', 'SIP engine: native|drachtio')
    .action(async (opts: ServeOptions) => {
      await serve(opts);
    });
}

async function serve(opts: ServeOptions): Promise<void> {
  const flags: Partial<FlagOverrides> = {};
  if (opts.sipListen) flags.sipListen = opts.sipListen;
  if (opts.httpListen) flags.httpListen = opts.httpListen;
  if (opts.logLevel) flags.logLevel = opts.logLevel;
  if (opts.role) flags.role = opts.role;
  if (opts.stateDir) flags.stateDir = opts.stateDir;
  if (opts.engine) flags.engine = opts.engine;
  // Read again, the same way, on SIGHUP.
  const load = () => loadConfig({ ...(opts.config ? { file: opts.config } : {}), env: process.env, flags });
  let config;
  try {
    config = load();
  } catch (err) {
    fatal(err);
    return;
  }
  const logger = createLogger({ level: config.log.level });
  logger.info({ version: VERSION, config: config.sourceFile ?? '(defaults)', role: config.role, pid: process.pid }, 'ringproof starting');
  for (const w of securityWarnings(config)) logger.warn(w.fields, w.message);
  let daemon;
  try {
    daemon = await startDaemon(config, logger);
  } catch (err) {
    logger.fatal({ err, code: isRingproofError(err) ? err.code : undefined }, 'start-up failed');
    logger.flush?.();
    fatal(err);
    return;
  }
  const d = daemon;
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, graceSeconds: config.shutdownGraceSeconds }, 'shutting down');
    const hard = setTimeout(() => {
      logger.error('graceful shutdown timed out; exiting');
      process.exit(1);
    }, (config.shutdownGraceSeconds + 5) * 1000);
    hard.unref();
    d.stop().then(
      ({ redisLost }) => {
        if (redisLost) {
          // Not a clean stop, but nothing is lost: say so, and exit with its own status.
          logger.warn({ code: ErrorCodes.REDIS_EMBEDDED_FAILED, exitCode: EXIT_REDIS_LOST },
            'stopped without the embedded redis-server (it exited during the shutdown): call events not in Redis are spooled and replayed at the next start');
          process.exit(EXIT_REDIS_LOST);
        }
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // The API role also re-reads the number deny-prefix list on SIGHUP (its own listener).
  process.on('SIGHUP', () => {
    if (stopping) return;
    reload(d, load, logger);
  });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err, code: ErrorCodes.INTERNAL }, 'uncaught exception');
    shutdown('uncaughtException');
  });
  process.on('unhandledRejection', (err) => logger.error({ err, code: ErrorCodes.INTERNAL }, 'unhandled rejection'));
}

/**
 * SIGHUP: reads the configuration again and puts its reloadable keys in force. A configuration that
 * does not load or compile is refused with the start-up error line (on stderr and in the log), and
 * the one in force stays.
 */
function reload(daemon: Daemon, load: () => RingproofConfig, logger: Logger): void {
  try {
    const result = daemon.reload(load());
    logger.info({ applied: result.applied }, 'SIGHUP: configuration reloaded');
    if (result.restartNeeded.length > 0) {
      logger.warn({ keys: result.restartNeeded }, 'SIGHUP: these keys changed but take effect only after a restart; they keep their old values');
    }
  } catch (err) {
    const line = errorLine(err);
    process.stderr.write(`${line}\n`);
    // A message may quote a number (a duplicate DID): the log masks it, as it masks every number.
    const masked = line.replace(/\+\d{6,15}/g, (n) => maskNumber(n) ?? '');
    logger.error({ code: isRingproofError(err) ? err.code : undefined, error: masked }, 'SIGHUP: configuration refused; the previous one stays in force');
  }
}

/** The one line a configuration or start-up error is reported with: "ringproof: RP_…: key: what". */
function errorLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const code = isRingproofError(err) ? `${err.code}: ` : '';
  return `ringproof: ${code}${msg.split('\n')[0]}`;
}

/** Start-up errors: one line on stderr naming what is wrong, non-zero exit. */
function fatal(err: unknown): void {
  process.stderr.write(`${errorLine(err)}\n`);
  // 78 (EX_CONFIG) only for configuration errors, so systemd's RestartPreventExitStatus=78 does not
  // also stop retries of passing failures such as a port still in use.
  const configError = isRingproofError(err) && (err.code === ErrorCodes.CONFIG_INVALID || err.code === ErrorCodes.CONFIG_UNREADABLE);
  process.exitCode = configError ? 78 : 1;
}
