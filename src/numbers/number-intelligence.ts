import type { LookupFunction } from 'node:net';
import type { Registry } from 'prom-client';
import type { ApiKeyConfig, NumbersConfig } from '../config/config-types.js';
import type { Logger } from '../log/logger.js';
import { CarrierLookup } from './carrier-lookup.js';
import { loadNumberClassifier, type NumberClassifier } from './number-classifier.js';
import { createNumberMetrics } from './number-metrics.js';
import { NumberPolicy } from './number-policy.js';
import { numberPolicyCheck } from './number-policy-check.js';
import type { CreationCheck } from '../api/creation-checks.js';

/** The number classifier, policy and its creation check, built once at start-up. */
export interface NumberIntelligence {
  readonly classifier: NumberClassifier;
  readonly policy: NumberPolicy;
  readonly check: CreationCheck;
  /** The carrier lookup, when numbers.carrierLookup.url is set. */
  readonly carrierLookup: CarrierLookup | undefined;
  /** Stops watching the deny-prefix file and closes the lookup's connections. */
  close(): void;
}

/**
 * Loads the full metadata and reads the deny-prefix file (a broken file stops start-up with its
 * line named), then watches the file. Everything per-creation after this is in memory.
 */
export async function startNumberIntelligence(opts: {
  numbers: NumbersConfig;
  keys: readonly ApiKeyConfig[];
  registry: Registry;
  logger: Logger;
  /** Poll interval of the deny-prefix file; 0 = do not watch (reload() still works). */
  watchIntervalMs?: number;
  /** Resolver behind the carrier lookup's egress guard; default dns.lookup (tests pass a local one). */
  resolve?: LookupFunction;
}): Promise<NumberIntelligence> {
  const metrics = createNumberMetrics(opts.registry);
  const classifier = await loadNumberClassifier();
  const policy = new NumberPolicy({
    numbers: opts.numbers,
    keys: opts.keys,
    logger: opts.logger,
    onReload: (r) => {
      metrics.denyPrefixReloads.inc({ result: r.ok ? 'ok' : 'error' });
      metrics.denyPrefixes.set(r.entries);
    },
  });
  metrics.denyPrefixes.set(policy.denyPrefixCount);
  const interval = opts.watchIntervalMs ?? 2000;
  if (interval > 0) policy.watch(interval);
  const lookupConfig = opts.numbers.carrierLookup;
  const carrierLookup = lookupConfig.url === undefined ? undefined : new CarrierLookup({
    config: { ...lookupConfig, url: lookupConfig.url },
    onRequest: (result, seconds) => {
      metrics.carrierLookups.inc({ result });
      metrics.carrierLookupSeconds.observe({ result }, seconds);
    },
    ...(opts.resolve !== undefined ? { resolve: opts.resolve } : {}),
  });
  // The URL's origin only: a path or query may carry an account token.
  opts.logger.info({
    file: policy.denyPrefixesFile, denyPrefixes: policy.denyPrefixCount,
    carrierLookup: lookupConfig.url === undefined ? 'off' : new URL(lookupConfig.url).origin,
  }, 'number policy loaded');
  const check = numberPolicyCheck(classifier, policy, metrics, carrierLookup && { lookup: carrierLookup, onError: lookupConfig.onError });
  return {
    classifier, policy, check, carrierLookup,
    close: () => {
      policy.close();
      carrierLookup?.close();
    },
  };
}
