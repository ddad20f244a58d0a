// Memory readings over a long run (flood-memory and soak modes): every process's resident memory,
// the Redis used_memory/keys, and the pipeline backlog, sampled together.
import { backlogOf, scrapeTarget } from './product-metrics.mjs';
import { memoryByName } from './process-cpu.mjs';
import { redisMemory } from './redis-info.mjs';
import { startSampler } from './sampler.mjs';

/** One reading of a product target: {rss: {name: MB}, redis: redisMemory(), backlog, redisUsedMetric}. */
export async function readMemory(target) {
  const [redis, scrapes] = await Promise.all([redisMemory(target.redisAddr), scrapeTarget(target)]);
  const b = backlogOf(scrapes);
  const rss = {};
  for (const [name, m] of memoryByName(target.procs())) rss[name] = m.rssMb;
  return { rss, redis, backlog: b.total, redisUsedMetric: b.redisUsedMetric };
}

/** Samples readMemory(target) every `intervalMs`; stop() resolves with [{t, ...reading}]. */
export const watchMemory = (target, intervalMs) => startSampler(() => readMemory(target), intervalMs);

/** The reading with the highest Redis used_memory (the peak), or undefined. */
export function peakOf(samples) {
  return samples.filter((s) => Number.isFinite(s.redis.usedBytes)).reduce((a, s) => (!a || s.redis.usedBytes > a.redis.usedBytes ? s : a), undefined);
}

/**
 * RSS drift per process name between two windows of `samples` (t in seconds): mean over [from1, to1]
 * vs mean over [from2, to2]; [{name, firstMb, lastMb, maxMb, change (share)}].
 */
export function rssDrift(samples, [from1, to1], [from2, to2]) {
  const names = [...new Set(samples.flatMap((s) => Object.keys(s.rss)))];
  const mean = (name, a, b) => {
    const v = samples.filter((s) => s.t >= a && s.t <= b).map((s) => s.rss[name]).filter(Number.isFinite);
    return v.length ? v.reduce((x, y) => x + y, 0) / v.length : NaN;
  };
  return names.map((name) => {
    const firstMb = mean(name, from1, to1);
    const lastMb = mean(name, from2, to2);
    const maxMb = Math.max(...samples.map((s) => s.rss[name]).filter(Number.isFinite));
    return { name, firstMb, lastMb, maxMb, change: (lastMb - firstMb) / firstMb };
  });
}
