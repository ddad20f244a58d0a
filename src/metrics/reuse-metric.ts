import type { Metric, Registry } from 'prom-client';

/**
 * The metric named `name` already on `registry`, or the one `make` registers there. Metric sets are
 * created per part (store, workers, API, engines) and several parts of one process, or several test
 * harnesses, ask for the same set on one registry: prom-client throws on a second registration.
 */
export function reuseMetric<T extends Metric>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** reuseMetric bound to one registry, for a file that creates several. */
export function metricReuser(registry: Registry): <T extends Metric>(name: string, make: () => T) => T {
  return (name, make) => reuseMetric(registry, name, make);
}
