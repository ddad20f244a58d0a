/**
 * A FIFO of items that all wait the same delay, so the queue is ordered by due time without a heap:
 * push is O(1), expiry pops from the head. The SIP timers (G at each back-off step, H, I) each get one.
 */
export class DelayQueue<T> {
  private items: T[] = [];
  private dues: number[] = [];
  private head = 0;

  constructor(readonly delayMs: number) {}

  push(item: T, now: number): number {
    const due = now + this.delayMs;
    this.items.push(item);
    this.dues.push(due);
    return due;
  }

  /** Calls `fire(item, due)` for every item due at `now`, oldest first. */
  expire(now: number, fire: (item: T, due: number) => void): void {
    const items = this.items;
    const dues = this.dues;
    while (this.head < items.length && (dues[this.head] as number) <= now) {
      const item = items[this.head] as T;
      const due = dues[this.head] as number;
      items[this.head] = undefined as T; // let it be collected before compaction
      this.head++;
      fire(item, due);
    }
    if (this.head > 4096 && this.head * 2 > items.length) {
      this.items = items.slice(this.head);
      this.dues = dues.slice(this.head);
      this.head = 0;
    }
  }

  get size(): number {
    return this.items.length - this.head;
  }

  clear(): void {
    this.items = [];
    this.dues = [];
    this.head = 0;
  }
}
