import type { Logger } from 'pino';
import type { CreationCheck, CreationNotes, CreationRefusal, CreationRequest } from '../api/creation-checks.js';
import type { ApiKeyConfig, CreateLimitsConfig, LimitWindow } from '../config/config-types.js';
import { ErrorCodes } from '../errors/codes.js';
import { runScript, type RedisClient } from '../verify/scripts/lua-script.js';
import { CREATE_LIMITS, type CreateLimitName } from './create-limit-defaults.js';
import type { CreateLimitMetrics } from './create-limit-metrics.js';
import { returnCreationScript, takeCreationScript } from './create-limit-scripts.js';

/** Seconds a client is told to wait when the counters cannot be reached. */
const UNREACHABLE_RETRY_AFTER_SECONDS = 5;

const WHAT: Record<CreateLimitName, string> = {
  perNumber: 'this phone number',
  perPrefix: 'numbers with this prefix',
  perCountry: 'this country',
  perApiKey: 'this API key',
  perClientIp: 'this client address',
};

/** Limits counted by the number blame the phoneNumber field; the key and address limits blame no input. */
const NUMBER_LIMITS: ReadonlySet<CreateLimitName> = new Set(['perNumber', 'perPrefix', 'perCountry']);

/** SIGHUP: `limits.create` of a reloaded configuration, put in force by the returned function. */
export interface ReloadableLimits {
  prepareReload(limits: CreateLimitsConfig): () => void;
}

/** The counters one creation takes from, with the limits that applied, so the same ones are given back. */
interface Taken {
  keys: string[];
  args: number[];
}

/**
 * The session-creation limits (the SMS-pumping guard) as a creation check. Runs after the number
 * policy (which notes the country), takes one creation from every window in one atomic script, and
 * gives it back when the session is not stored after all: a refused creation counts against nothing.
 * Counters live in Redis under the key prefix, so every API process shares them.
 */
export function createLimitsCheck(opts: {
  redis: RedisClient;
  prefix: string;
  limits: CreateLimitsConfig;
  keys: readonly ApiKeyConfig[];
  metrics: CreateLimitMetrics;
  logger: Logger;
}): CreationCheck & ReloadableLimits {
  const { redis, prefix, metrics, logger } = opts;
  // Resolved once per configuration: each key's limits, its overrides over the global ones. The
  // keys themselves (api.keys) are start-up settings; a reload changes the global limits under them.
  const resolve = (limits: CreateLimitsConfig): { global: CreateLimitsConfig; perKey: Map<string, CreateLimitsConfig> } => ({
    global: limits,
    perKey: new Map(opts.keys.map((k) => [k.name, { ...limits, ...k.limits?.create }])),
  });
  let inForce = resolve(opts.limits);
  const taken = new WeakMap<CreationNotes, Taken>();

  const subjects = (req: CreationRequest, notes: CreationNotes, limits: CreateLimitsConfig): Record<CreateLimitName, string> => ({
    perNumber: req.phoneNumber,
    perPrefix: req.phoneNumber.slice(0, 1 + limits.perPrefix.digits),
    perCountry: notes.phoneNumberInfo?.country ?? 'ZZ',
    perApiKey: req.principal,
    perClientIp: req.clientIp,
  });

  return {
    name: 'creation-limits',
    async check(req, notes): Promise<CreationRefusal | undefined> {
      const limits = inForce.perKey.get(req.principal) ?? inForce.global;
      if (!limits.enabled) return undefined;
      const subject = subjects(req, notes, limits);
      const t: Taken = { keys: [], args: [] };
      for (const name of CREATE_LIMITS) {
        const w: LimitWindow = limits[name];
        t.keys.push(`${prefix}:lim:create:${name}:${w.windowSeconds}:${subject[name]}`);
        t.args.push(w.count, w.windowSeconds * 1000);
      }
      let reply: unknown;
      try {
        reply = await runScript(redis, takeCreationScript, t.keys, t.args);
      } catch (err) {
        metrics.failures.inc();
        logger.warn({ err }, 'creation limits: counters unreachable, creation refused');
        return {
          status: 503, code: ErrorCodes.API_UNAVAILABLE, message: 'creation limits cannot be checked right now',
          field: null, retryAfterSeconds: UNREACHABLE_RETRY_AFTER_SECONDS,
        };
      }
      const [index, ttlMs] = (reply as [number, number]).map(Number) as [number, number];
      if (index === 0) {
        taken.set(notes, t);
        return undefined;
      }
      const name = CREATE_LIMITS[index - 1] as CreateLimitName;
      const w = limits[name];
      const retryAfterSeconds = Math.max(1, Math.ceil(ttlMs / 1000));
      metrics.limited.inc({ limit: name });
      logger.info({ limit: name, principal: req.principal, count: w.count, windowSeconds: w.windowSeconds, retryAfterSeconds }, 'creation limited');
      return {
        status: 429,
        code: ErrorCodes.CREATION_LIMITED,
        message: `too many verifications for ${WHAT[name]}: at most ${w.count} per ${w.windowSeconds} s; retry after ${retryAfterSeconds} s`,
        field: NUMBER_LIMITS.has(name) ? 'phoneNumber' : null,
        retryAfterSeconds,
        details: { limit: name, count: w.count, windowSeconds: w.windowSeconds, retryAfterSeconds },
      };
    },
    prepareReload(limits) {
      const next = resolve(limits);
      return () => { inForce = next; };
    },
    async released(_req, notes) {
      const t = taken.get(notes);
      if (!t) return;
      taken.delete(notes);
      try {
        await runScript(redis, returnCreationScript, t.keys, t.args);
      } catch (err) {
        // The creation stays counted until its window ends: too strict for a while, never too lax.
        logger.warn({ err }, 'creation limits: could not give back a creation that was not stored');
      }
    },
  };
}
