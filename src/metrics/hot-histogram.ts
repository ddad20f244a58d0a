import type { Registry } from 'prom-client';

export interface HotHistogramOptions<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  /** Upper bounds, ascending; +Inf is implied. */
  buckets: readonly number[];
  registers: readonly Registry[];
}

/** One label set's counts: what a hot path keeps and calls observe() on. */
export interface HistogramSlot {
  observe(value: number): void;
}

class Slot implements HistogramSlot {
  /** Per bucket (not cumulative); the last one is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    private readonly bounds: readonly number[],
    readonly labels: Readonly<Record<string, string>>,
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }
}

interface ExportedValue {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/**
 * A Prometheus histogram for the per-INVITE path. prom-client's Histogram builds, validates and
 * hashes its label object on every observe(); here a label set is resolved once to a slot, and an
 * observation is a bucket search and three additions. It registers with a prom-client Registry like
 * any metric and exports what prom-client's Histogram exports: cumulative `_bucket` series with `le`
 * first, then `+Inf`, `_sum` and `_count`, per label set in creation order.
 */
export class HotHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  private readonly labelNames: readonly L[];
  private readonly bounds: readonly number[];
  private readonly slots = new Map<string, Slot>();

  constructor(opts: HotHistogramOptions<L>) {
    this.name = opts.name;
    this.help = opts.help;
    this.labelNames = opts.labelNames;
    this.bounds = [...opts.buckets];
    for (let i = 1; i < this.bounds.length; i++) {
      if (!((this.bounds[i] as number) > (this.bounds[i - 1] as number))) throw new RangeError(`${opts.name}: buckets must ascend`);
    }
    // The registry only needs name, help, type and get(); see prom-client's Registry.
    for (const r of opts.registers) r.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** The slot for these label values (in labelNames order); keep it and call observe(). */
  labels(...values: string[]): HistogramSlot {
    if (values.length !== this.labelNames.length) {
      throw new RangeError(`${this.name}: expected ${this.labelNames.length} label values, got ${values.length}`);
    }
    const key = values.join('\u0000');
    let slot = this.slots.get(key);
    if (slot === undefined) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => {
        labels[n] = values[i] as string;
      });
      slot = new Slot(this.bounds, labels);
      this.slots.set(key, slot);
    }
    return slot;
  }

  get(): Promise<{ name: string; help: string; type: 'histogram'; values: ExportedValue[]; aggregator: 'sum' }> {
    const values: ExportedValue[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const slot of this.slots.values()) {
      let acc = 0;
      this.bounds.forEach((le, i) => {
        acc += slot.counts[i] as number;
        values.push({ labels: { le, ...slot.labels }, value: acc, metricName: bucketName });
      });
      values.push({ labels: { le: '+Inf', ...slot.labels }, value: slot.count, metricName: bucketName });
      values.push({ labels: { ...slot.labels }, value: slot.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...slot.labels }, value: slot.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  reset(): void {
    for (const slot of this.slots.values()) {
      slot.counts.fill(0);
      slot.sum = 0;
      slot.count = 0;
    }
  }
}
