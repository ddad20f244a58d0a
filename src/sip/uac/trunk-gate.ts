/**
 * A trunk's admission: at most `cps` new calls in any second and `maxConcurrent` calls in progress.
 * A call over the rate waits for its slot (calls are spaced 1000/cps ms apart, and a sliding window of
 * the last `cps` start times is checked again when the slot comes, since timers fire late and in
 * bursts); when the slot is further away than `maxQueueMs`, the call is refused at once. The window
 * is a quarter slot longer than a second: jitter between our socket and the carrier's clock must not
 * put cps + 1 calls into one of the carrier's seconds.
 */
export type GateRefusal = 'cps' | 'concurrency';

export class TrunkGate {
  private active = 0;
  private nextSlot = 0;
  /** Start times of the last `cps` calls (ring buffer). */
  private readonly starts: Float64Array;
  private head = 0;

  constructor(
    private readonly cps: number,
    private readonly maxConcurrent: number,
    private readonly maxQueueMs: number,
  ) {
    this.starts = new Float64Array(cps).fill(-Infinity);
  }

  get inProgress(): number {
    return this.active;
  }

  /**
   * Resolves when the call may start, with `sent` to call as its INVITE leaves (the window counts
   * the real send times), or with the refusal. The caller must release() once the call ends.
   */
  async acquire(): Promise<{ sent: () => void } | GateRefusal> {
    if (this.active >= this.maxConcurrent) return 'concurrency';
    const now = performance.now();
    const slot = Math.max(now, this.nextSlot);
    if (slot - now > this.maxQueueMs) return 'cps';
    this.nextSlot = slot + 1000 / this.cps;
    this.active++;
    const window = 1000 + 250 / this.cps;
    for (;;) {
      const t = performance.now();
      const wait = Math.max(slot - t, (this.starts[this.head] as number) + window - t);
      if (wait <= 0) break;
      await new Promise((r) => setTimeout(r, Math.ceil(wait)));
    }
    // Reserved now (so a waiter woken next counts this call), corrected to the real send time.
    const mine = this.head;
    this.starts[mine] = performance.now();
    this.head = (this.head + 1) % this.cps;
    return { sent: () => { this.starts[mine] = Math.max(this.starts[mine] as number, performance.now()); } };
  }

  release(): void {
    if (this.active > 0) this.active--;
  }
}
