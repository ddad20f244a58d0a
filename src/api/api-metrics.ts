import { Counter, Histogram, type Registry } from 'prom-client';
import { reuseMetric } from '../metrics/reuse-metric.js';

export interface ApiMetrics {
  requests: Counter<'route' | 'status'>;
  duration: Histogram<'route'>;
}

/** Label for requests that matched no route: the raw URL must never become a label value. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Registers the API metrics on the registry, or reuses them when registerApi runs twice on it. */
export function apiMetrics(registry: Registry): ApiMetrics {
  const requests = reuseMetric(registry, 'ringproof_api_requests_total', () => new Counter({
    name: 'ringproof_api_requests_total',
    help: 'HTTP API requests, by route pattern and response status',
    labelNames: ['route', 'status'] as const,
    registers: [registry],
  }));
  const duration = reuseMetric(registry, 'ringproof_api_request_duration_seconds', () => new Histogram({
    name: 'ringproof_api_request_duration_seconds',
    help: 'HTTP API request handling time, by route pattern',
    labelNames: ['route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  }));
  return { requests, duration };
}
