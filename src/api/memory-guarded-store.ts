import { unavailableError } from './api-request-error.js';
import type { CreateVerificationInput, Verification, VerificationStore } from '../verify/verification-types.js';

/** Seconds a refused client is asked to wait: the flood's dedupe state drains within about this. */
export const MEMORY_RETRY_AFTER_SECONDS = 30;

/**
 * A VerificationStore that refuses new sessions (503 + Retry-After) while Redis is above its memory
 * high-water mark, so creation fails cleanly before Redis itself refuses writes (noeviction) and
 * the memory left serves the sessions already pending: their calls still verify. Reads and
 * cancellations pass through, and so do idempotent replays (findReplay): a retry gets its original
 * answer, at most re-adding a missing expiry job.
 */
export class MemoryGuardedStore implements VerificationStore {
  constructor(
    private readonly inner: VerificationStore,
    private readonly memory: { readonly ratio: number },
    private readonly highWaterRatio: number,
  ) {}

  create(input: CreateVerificationInput): Promise<{ verification: Verification; replayed: boolean }> {
    if (this.memory.ratio >= this.highWaterRatio) {
      return Promise.reject(unavailableError(
        `Redis is at ${Math.round(this.memory.ratio * 100)}% of its memory ceiling; no new verification is taken for now`,
        MEMORY_RETRY_AFTER_SECONDS,
      ));
    }
    return this.inner.create(input);
  }

  findReplay(owner: string, idempotencyKey: string): Promise<Verification | null> {
    return this.inner.findReplay(owner, idempotencyKey);
  }

  get(id: string): Promise<Verification | null> {
    return this.inner.get(id);
  }

  cancel(id: string): Promise<Verification | null> {
    return this.inner.cancel(id);
  }
}
