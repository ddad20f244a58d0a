import type { ConfigChecker } from './config-checker.js';
import type { HostPort, HttpConfig, MetricsConfig } from './config-types.js';
import { formatHostPort } from './parse-listen.js';
import { readHostPort } from './read-host-port.js';

/**
 * metrics.listen: a listener of its own for /metrics, so the API and the metrics can be exposed
 * (or proxied) separately. It may not be http.listen itself: leave it unset for that.
 */
export function readMetrics(c: ConfigChecker, value: unknown, d: MetricsConfig, http: HttpConfig): MetricsConfig {
  const path = ['metrics'];
  const o = c.mapping(value, path, ['listen']);
  const listen = c.pick<HostPort | undefined>(o, path, 'listen', d.listen, (v, p) => readHostPort(c, v, p));
  if (listen && listen.port !== 0 && listen.port === http.listen.port && listen.host === http.listen.host) {
    c.fail([...path, 'listen'], `must differ from http.listen (${formatHostPort(http.listen)}); leave it unset to serve /metrics there`);
  }
  return { listen };
}
