import { Counter, type Registry } from 'prom-client';
import type { EgressRefusal } from './egress-policy.js';

/** Where a destination was refused: when a URL was accepted for later use, or when connecting. */
export type EgressStage = 'create' | 'connect';

export interface EgressMetrics {
  readonly refused: Counter<'purpose' | 'stage' | 'reason'>;
  /** An onRefused callback that counts under `purpose` ("webhook", "x5u", ...) and `stage`. */
  counter(purpose: string, stage: EgressStage): (refusal: EgressRefusal) => void;
}

const byRegistry = new WeakMap<Registry, EgressMetrics>();

/** The egress metrics on `registry`, created on first call (idempotent per registry). */
export function egressMetrics(registry: Registry): EgressMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const refused = new Counter({
    name: 'ringproof_egress_refused_total',
    help: 'Outbound destinations refused because they are not public addresses, by client purpose, stage (create = URL refused when given, connect = address refused when connecting) and reason (loopback, private, link-local, cgnat, multicast, unspecified, reserved, invalid)',
    labelNames: ['purpose', 'stage', 'reason'] as const,
    registers: [registry],
  });
  const m: EgressMetrics = {
    refused,
    counter: (purpose, stage) => (r) => refused.inc({ purpose, stage, reason: r.reason }),
  };
  byRegistry.set(registry, m);
  return m;
}
