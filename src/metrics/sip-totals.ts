import type { Counter } from 'prom-client';
import type { Metrics } from './metrics.js';

/** What this process's SIP side did in its lifetime, summed over transports and trunks. */
export interface SipTotals {
  /** Requests received by method (retransmissions included). */
  requests: Record<string, number>;
  /** Responses sent by status code (retransmissions included). */
  responses: Record<string, number>;
  /** Messages dropped without a response, by reason. */
  drops: Record<string, number>;
  /** request_in: absorbed duplicate requests; response_out: final responses re-sent (timer G). */
  retransmissions: Record<string, number>;
}

async function byLabel(counter: Counter<string>, label: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await counter.get()).values) {
    const key = String(v.labels[label] ?? '');
    out[key] = (out[key] ?? 0) + v.value;
  }
  return out;
}

/**
 * The SIP counters summed for the shutdown log line, so an operator (and the shutdown test) can
 * check after the exit that every INVITE the listener took was answered.
 */
export async function sipTotals(m: Metrics): Promise<SipTotals> {
  return {
    requests: await byLabel(m.sipRequests, 'method'),
    responses: await byLabel(m.sipResponses, 'code'),
    drops: await byLabel(m.sipDrops, 'reason'),
    retransmissions: await byLabel(m.sipRetransmissions, 'kind'),
  };
}
