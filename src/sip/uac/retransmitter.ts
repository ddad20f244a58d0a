/**
 * Request retransmission over UDP (RFC 3261 §17.1.1.2 timer A, §17.1.2.2 timer E): send again after
 * T1, 2*T1, 4*T1, … (capped at T2 for non-INVITE), until stopped or the transaction timer (B or F,
 * 64*T1) fires. Over TCP nothing is sent again, but the transaction timer still runs.
 */
export class Retransmitter {
  private timer: NodeJS.Timeout | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private interval: number;
  /** Sends after the first. */
  count = 0;

  constructor(
    private readonly send: () => void,
    private readonly opts: { t1Ms: number; capMs: number | undefined; reliable: boolean; onTimeout: () => void },
  ) {
    this.interval = opts.t1Ms;
  }

  start(): void {
    this.send();
    if (!this.opts.reliable) this.arm();
    this.deadline = setTimeout(() => {
      this.stop();
      this.opts.onTimeout();
    }, 64 * this.opts.t1Ms);
  }

  /** A response arrived: no more resends (the transaction timer too when `all`). */
  stopResending(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  stop(): void {
    this.stopResending();
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = undefined;
  }

  private arm(): void {
    this.timer = setTimeout(() => {
      this.count++;
      this.send();
      this.interval = this.opts.capMs === undefined ? this.interval * 2 : Math.min(this.interval * 2, this.opts.capMs);
      this.arm();
    }, this.interval);
  }
}
