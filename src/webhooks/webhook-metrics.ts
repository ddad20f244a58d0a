import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { egressMetrics } from '../egress/egress-metrics.js';
import type { EgressRefusal } from '../egress/egress-policy.js';

export type DeliveryResult = 'success' | 'retry' | 'dead';

/** INVITE received → receiver answered 2xx: the end-to-end latency an app sees. */
export const INVITE_TO_WEBHOOK_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2.5, 5, 10,
];

/** One HTTP round trip to the receiver. */
export const WEBHOOK_DELIVERY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface WebhookMetrics {
  readonly deliveries: Counter<'type' | 'result'>;
  /** status_class: 2xx, 3xx, 4xx, 5xx, or error (timeout, refused, bad URL). */
  readonly deliverySeconds: Histogram<'status_class'>;
  readonly inviteToWebhook: Histogram;
  /** Length of the dead-letter list, read from Redis at scrape time (ops purge it from the CLI). */
  readonly deadLetters: Gauge;
  /** Counts a destination the egress guard refused when connecting (ringproof_egress_refused_total). */
  readonly refusedAtConnect: (refusal: EgressRefusal) => void;
  /** Where the gauge reads the list length; the last worker to set it wins (they share one Redis). */
  setDeadLetterSource(source: () => Promise<number>): void;
}

/** A scrape must not hang on a Redis outage: give up after this and report the last value. */
const DEAD_LETTER_READ_TIMEOUT_MS = 500;

const byRegistry = new WeakMap<Registry, WebhookMetrics>();

/**
 * The webhook metrics on `registry`, created on first call. Idempotent per registry so several
 * workers in one process (or a worker and tests) do not register the same names twice.
 */
export function createWebhookMetrics(registry: Registry): WebhookMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  let source: (() => Promise<number>) | undefined;
  const m: WebhookMetrics = {
    deliveries: new Counter({
      name: 'ringproof_webhook_deliveries_total',
      help: 'Webhook delivery attempts by event type and result (success, retry = failed and will retry, dead = gave up)',
      labelNames: ['type', 'result'] as const,
      registers: [registry],
    }),
    deliverySeconds: new Histogram({
      name: 'ringproof_webhook_delivery_seconds',
      help: 'HTTP round trip of one webhook delivery attempt, by response status class',
      labelNames: ['status_class'] as const,
      buckets: WEBHOOK_DELIVERY_BUCKETS,
      registers: [registry],
    }),
    inviteToWebhook: new Histogram({
      name: 'ringproof_invite_to_webhook_seconds',
      help: 'From the verifying INVITE received to the verification.verified webhook acknowledged with 2xx',
      buckets: INVITE_TO_WEBHOOK_BUCKETS,
      registers: [registry],
    }),
    deadLetters: new Gauge({
      name: 'ringproof_webhook_dead_letters',
      help: 'Webhook deliveries in the dead-letter list (gave up after all attempts), awaiting replay or purge',
      registers: [registry],
      async collect() {
        if (!source) return;
        let timer: NodeJS.Timeout | undefined;
        try {
          const n = await Promise.race([
            source(),
            new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), DEAD_LETTER_READ_TIMEOUT_MS); }),
          ]);
          if (n !== null) this.set(n);
        } catch {
          // Keep the last value: a metrics scrape must not fail because Redis is briefly away.
        } finally {
          clearTimeout(timer);
        }
      },
    }),
    refusedAtConnect: egressMetrics(registry).counter('webhook', 'connect'),
    setDeadLetterSource(s) {
      source = s;
    },
  };
  byRegistry.set(registry, m);
  return m;
}

export function statusClass(status: number | undefined): string {
  if (status === undefined || status < 100 || status > 599) return 'error';
  return `${Math.floor(status / 100)}xx`;
}
