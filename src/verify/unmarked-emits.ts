/**
 * Event ids this process delivered itself (a direct POST answered 2xx) whose session is not yet
 * marked notified: mark-notified failed (Redis died right after the POST), so the job is retried. The
 * retry then only marks, instead of POSTing the same event a second time. Queue adds do not belong
 * here: a Redis that lost an acknowledged add (no fsync) needs it added again. Shared by the call workers of one
 * process, since the retry may land on another of them. A process that dies loses the set, and the
 * retry re-POSTs: at-least-once, deduped by receivers on `webhook-id`.
 */
export class UnmarkedEmits {
  private readonly ids = new Set<string>();

  /** Bounded: normally it holds only the events between their POST and their mark. */
  constructor(private readonly max = 10_000) {}

  has(eventId: string): boolean {
    return this.ids.has(eventId);
  }

  add(eventId: string): void {
    if (this.ids.size >= this.max) {
      const oldest = this.ids.values().next();
      if (!oldest.done) this.ids.delete(oldest.value);
    }
    this.ids.add(eventId);
  }

  delete(eventId: string): void {
    this.ids.delete(eventId);
  }

  get size(): number {
    return this.ids.size;
  }
}
