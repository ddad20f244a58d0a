import type { Counter, Histogram } from 'prom-client';
import { methodLabel, type Metrics } from '../metrics/metrics.js';

type Child = { inc(n?: number): void };

/**
 * prom-client resolves label sets by building a key string on every call; on the per-INVITE path we
 * resolve each label combination once and keep the child.
 */
export class SipCounters {
  private readonly requests = new Map<string, Child>();
  private readonly responses = new Map<string, Child>();
  private readonly drops = new Map<string, Child>();
  private readonly retrans = new Map<string, Child>();
  private readonly finalTimers = new Map<string, { observe(v: number): void }>();

  constructor(private readonly m: Metrics) {}

  request(method: string, transport: string, trunk: string): void {
    const key = `${method}|${transport}|${trunk}`;
    let c = this.requests.get(key);
    if (!c) {
      c = this.m.sipRequests.labels(methodLabel(method), transport, trunk);
      // Unknown methods share one child under "other"; do not grow the map with attacker strings.
      if (methodLabel(method) === method) this.requests.set(key, c);
    }
    c.inc();
  }

  response(code: number, transport: string): void {
    child(this.responses, this.m.sipResponses, `${code}|${transport}`, [String(code), transport]).inc();
  }

  drop(reason: string, transport: string): void {
    child(this.drops, this.m.sipDrops, `${reason}|${transport}`, [reason, transport]).inc();
  }

  retransmission(kind: string, transport: string): void {
    child(this.retrans, this.m.sipRetransmissions, `${kind}|${transport}`, [kind, transport]).inc();
  }

  inviteToFinal(seconds: number, transport: string): void {
    let h = this.finalTimers.get(transport);
    if (!h) {
      h = (this.m.inviteToFinal as Histogram<'transport'>).labels(transport);
      this.finalTimers.set(transport, h);
    }
    h.observe(seconds);
  }
}

function child(cache: Map<string, Child>, counter: Counter<string>, key: string, labels: string[]): Child {
  let c = cache.get(key);
  if (!c) {
    c = counter.labels(...labels);
    cache.set(key, c);
  }
  return c;
}
