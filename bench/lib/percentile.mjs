/** Nearest-rank percentile of an ascending-sorted array (q in 0..1); NaN when empty. */
export function percentileSorted(sorted, q) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/**
 * Quantile from cumulative histogram buckets (upper bound `le` → cumulative count), interpolating
 * linearly inside the bucket as Prometheus' histogram_quantile does. NaN when there is no sample.
 */
export function histogramQuantile(buckets, q) {
  const finite = buckets.filter((b) => Number.isFinite(b.le)).sort((a, b) => a.le - b.le);
  const inf = buckets.find((b) => !Number.isFinite(b.le));
  const total = inf ? inf.count : finite.length ? finite[finite.length - 1].count : 0;
  if (!(total > 0)) return NaN;
  const want = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of finite) {
    if (b.count >= want) {
      const inBucket = b.count - prevCount;
      if (inBucket <= 0) return b.le;
      return prevLe + ((b.le - prevLe) * (want - prevCount)) / inBucket;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  // Beyond the last finite bucket: all we know is "more than" it.
  return Infinity;
}
