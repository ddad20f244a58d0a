/**
 * A FIFO of items that all wait the same delay, so the queue is ordered by due time without a heap:
 * push is O(1), expiry pops from the head. The SIP timers (G at each back-off step, H) each get one.
 * An entry can be cancelled by the ticket push() returned, so a transaction that ends early is not
 * kept reachable (and promoted by the garbage collector) until its timer would have fired.
 */
export class DelayQueue<T> {
  private items: (T | undefined)[] = [];
  private dues: number[] = [];
  private head = 0;
  /** Ticket of items[0]: tickets stay valid across compaction. */
  private base = 0;
  private live = 0;

  constructor(readonly delayMs: number) {}

  /** Queues `item` to fire at now + delayMs; returns its ticket for cancel(). */
  push(item: T, now: number): number {
    // No compaction here: expire() may be running on this very queue (timer G at T2 queues its
    // transaction again where it came from), and replacing the arrays under it lost entries, which
    // left overloaded transactions without a timer for good. Cancelled entries go at expiry.
    this.items.push(item);
    this.dues.push(now + this.delayMs);
    this.live++;
    return this.base + this.items.length - 1;
  }

  /** Drops the entry with this ticket if it has not fired yet. */
  cancel(ticket: number): void {
    const i = ticket - this.base;
    if (i >= this.head && i < this.items.length && this.items[i] !== undefined) {
      this.items[i] = undefined;
      this.live--;
    }
  }

  /** Calls `fire(item)` for every entry due at `now`, oldest first. */
  expire(now: number, fire: (item: T) => void): void {
    const items = this.items;
    const dues = this.dues;
    while (this.head < items.length && (dues[this.head] as number) <= now) {
      const item = items[this.head];
      items[this.head] = undefined; // let it be collected before compaction
      this.head++;
      if (item !== undefined) {
        this.live--;
        fire(item);
      }
    }
    if (this.head > 4096 && this.head * 2 > items.length) {
      this.compact();
    } else if (this.head === items.length && this.head > 0) {
      this.items = [];
      this.dues = [];
      this.base += this.head;
      this.head = 0;
    }
  }

  /** Drops the entries before the head (fired or cancelled); tickets stay valid. */
  private compact(): void {
    this.items = this.items.slice(this.head);
    this.dues = this.dues.slice(this.head);
    this.base += this.head;
    this.head = 0;
  }

  /** Entries waiting (cancelled ones excluded). */
  get size(): number {
    return this.live;
  }

  clear(): void {
    this.base += this.items.length;
    this.items = [];
    this.dues = [];
    this.head = 0;
    this.live = 0;
  }
}
