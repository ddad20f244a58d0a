// The pipeline's state read from the /metrics of every process of a product target: the backlog (queue
// depth gauges + the disk spool), SIP transactions still held, and Redis memory when the daemon exports it.
import { scrape, sum } from './prom-scrape.mjs';

/** /metrics of each of the target's processes, in httpPorts order (undefined where one did not answer). */
export function scrapeTarget(target) {
  return Promise.all(target.httpPorts.map((p) => scrape(p)));
}

/** All processes' samples in one list: counters and histograms then sum over the processes. */
export const merged = (scrapes) => scrapes.flatMap((s) => s ?? []);

/**
 * The backlog in one reading. Every process with Redis reports the same queue gauges (one Redis), so
 * they are taken from the first process that has them; the spool is per edge, so it is summed.
 * total = Σ ringproof_queue_depth (waiting + prioritized + active, every queue) + ringproof_spool_events;
 * NaN when no process reported the queue gauges (Redis did not answer the probe in time).
 */
export function backlogOf(scrapes) {
  const withQueues = scrapes.find((s) => s?.some((x) => x.name === 'ringproof_queue_depth'));
  const queues = {};
  for (const x of withQueues ?? []) if (x.name === 'ringproof_queue_depth') queues[x.labels.queue ?? ''] = x.value;
  const answered = scrapes.filter((s) => s !== undefined);
  const spool = answered.length ? answered.reduce((a, s) => a + (sum(s, 'ringproof_spool_events') || 0), 0) : NaN;
  const depth = withQueues ? Object.values(queues).reduce((a, b) => a + b, 0) : NaN;
  const used = answered.map((s) => sum(s, 'ringproof_redis_used_memory_bytes')).find((v) => v > 0);
  return {
    queues,
    depth,
    spool,
    total: depth + spool,
    sipTransactions: answered.length ? answered.reduce((a, s) => a + (sum(s, 'ringproof_sip_transactions') || 0), 0) : NaN,
    redisUsedMetric: used ?? NaN,
  };
}

/**
 * Least-squares slope (per second) of `y` over `t` for the samples with t in [from, to]: how fast the
 * backlog grew over the second half of a step. NaN with fewer than 3 readings.
 */
export function slope(samples, from, to, key = 'backlog') {
  const pts = samples.filter((s) => s.t >= from && s.t <= to && Number.isFinite(s[key]));
  if (pts.length < 3) return NaN;
  const mt = pts.reduce((a, p) => a + p.t, 0) / pts.length;
  const my = pts.reduce((a, p) => a + p[key], 0) / pts.length;
  let num = 0;
  let den = 0;
  for (const p of pts) {
    num += (p.t - mt) * (p[key] - my);
    den += (p.t - mt) ** 2;
  }
  return den > 0 ? num / den : NaN;
}
