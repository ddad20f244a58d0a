import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HotHistogram } from '../../src/metrics/hot-histogram.js';
import { INVITE_TO_FINAL_BUCKETS } from '../../src/metrics/metrics.js';

describe('HotHistogram', () => {
  it("scrapes exactly like prom-client's Histogram for the same observations", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const opts = { name: 'x_seconds', help: 'test', labelNames: ['transport'] as const, buckets: INVITE_TO_FINAL_BUCKETS };
    const hot = new HotHistogram({ ...opts, registers: [ours] });
    const ref = new Histogram({ ...opts, registers: [theirs] });
    const values = [0, 0.00001, 0.000025, 0.00003, 0.0001, 0.0004, 0.002, 0.9, 1, 3, 12.5];
    for (const [i, v] of values.entries()) {
      const t = i % 3 === 0 ? 'tcp' : 'udp';
      if (i === 0) {
        // prom-client lists label sets in first-observed order; so do we.
        hot.labels('tcp');
        hot.labels('udp');
        ref.labels('tcp').observe(v);
        ref.labels('udp').observe(0.5);
        hot.labels('tcp').observe(v);
        hot.labels('udp').observe(0.5);
        continue;
      }
      hot.labels(t).observe(v);
      ref.labels(t).observe(v);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('x_seconds_bucket{le="0.0001",transport="udp"}');
    // JSON too, but for prom-client's empty exemplar fields.
    const noExemplars = (json: unknown): unknown => JSON.parse(JSON.stringify(json, (k, v: unknown) => (k === 'exemplar' ? undefined : v)));
    expect(noExemplars(await ours.getMetricsAsJSON())).toEqual(noExemplars(await theirs.getMetricsAsJSON()));
  });

  it('ignores non-finite values, rejects a wrong label count, and resets to zero', async () => {
    const r = new Registry();
    const h = new HotHistogram({ name: 'y_seconds', help: 'y', labelNames: ['a'] as const, buckets: [1, 2], registers: [r] });
    h.labels('v').observe(Number.NaN);
    h.labels('v').observe(1.5);
    expect(() => h.labels()).toThrow(RangeError);
    expect(await r.metrics()).toContain('y_seconds_count{a="v"} 1');
    expect(await r.metrics()).toContain('y_seconds_bucket{le="2",a="v"} 1');
    h.reset();
    expect(await r.metrics()).toContain('y_seconds_count{a="v"} 0');
  });
});
