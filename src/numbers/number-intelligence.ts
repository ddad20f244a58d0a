import type { Registry } from 'prom-client';
import type { ApiKeyConfig, NumbersConfig } from '../config/config-types.js';
import type { Logger } from '../log/logger.js';
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
  /** Stops watching the deny-prefix file. */
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
  opts.logger.info({ file: policy.denyPrefixesFile, denyPrefixes: policy.denyPrefixCount }, 'number policy loaded');
  return { classifier, policy, check: numberPolicyCheck(classifier, policy, metrics), close: () => policy.close() };
}
