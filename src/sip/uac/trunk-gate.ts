/**
 * A trunk's admission: at most `cps` new calls in any second and `maxConcurrent` calls in progress.
 * A call over the rate waits for its slot (calls are spaced 1000/cps ms apart, and a sliding window of
 * the last `cps` start times is checked again when the slot comes, since timers fire late and in
 * bursts); when the slot is further away than `maxQueueMs`, the call is refused at once. The window
 * is a quarter slot longer than a second: jitter between our socket and the carrier's clock must not
 * put cps + 1 calls into one of the carrier's seconds. A call counts from its `sent()` (the INVITE
 * left: at once for the native UAC, drachtio-server's echo for the drachtio one); until then its
 * window entry is open, and the call `cps` places later waits for it, so a send that is late (a busy
 * drachtio-server) can never squeeze more than `cps` calls into a second on the wire.
 */
export type GateRefusal = 'cps' | 'concurrency';

/** An admitted call: `sent()` as its INVITE leaves; give it back to release(). */
export interface GateTicket {
  sent(): void;
}

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
   * Resolves when the call may start, with the ticket whose `sent()` is called as its INVITE leaves
   * (the window counts the real send times), or with the refusal. The caller must release() it.
   */
  async acquire(): Promise<GateTicket | GateRefusal> {
    if (this.active >= this.maxConcurrent) return 'concurrency';
    const now = performance.now();
    const slot = Math.max(now, this.nextSlot);
    if (slot - now > this.maxQueueMs) return 'cps';
    this.nextSlot = slot + 1000 / this.cps;
    this.active++;
    const window = 1000 + 250 / this.cps;
    for (;;) {
      const t = performance.now();
      const oldest = this.starts[this.head] as number;
      // The call `cps` places back has not left yet (Infinity): look again a slot later.
      const wait = oldest === Infinity ? 1000 / this.cps : Math.max(slot - t, oldest + window - t);
      if (wait <= 0) break;
      await new Promise((r) => setTimeout(r, Math.ceil(wait)));
    }
    // Open until sent: a waiter woken next sees this call and waits for its send.
    const mine = this.head;
    this.starts[mine] = Infinity;
    this.head = (this.head + 1) % this.cps;
    let open = true;
    return {
      sent: () => {
        if (!open) return;
        open = false;
        this.starts[mine] = performance.now();
      },
    };
  }

  /** The call ended; one never sent counts as sent now (late is the safe side of the cap). */
  release(ticket: GateTicket): void {
    ticket.sent();
    if (this.active > 0) this.active--;
  }
}
