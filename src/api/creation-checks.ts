import type { ErrorCode } from '../errors/codes.js';
import type { PhoneNumberInfo, VerificationMethod } from '../numbers/number-types.js';
import { ApiRequestError } from './api-request-error.js';

/** What is being created, as the checks see it: after input validation, before anything is stored. */
export interface CreationRequest {
  /** E.164, as normalized from the body. */
  readonly phoneNumber: string;
  readonly method: VerificationMethod;
  /** The API key name (or "loopback"): per-key policies and limits key on it. */
  readonly principal: string;
  /** The client's address as fastify sees it (request.ip): per-address limits key on it. */
  readonly clientIp: string;
}

/** What the checks learned, stored with the session (e.g. phoneNumberInfo). Later checks see earlier ones' notes. */
export interface CreationNotes {
  phoneNumberInfo?: PhoneNumberInfo;
}

/** A check's "no": becomes the API response; nothing has been stored or counted by then. */
export interface CreationRefusal {
  /** 422 (policy); later checks may use 429 (a limit) or 503 (a dependency is down). */
  status: number;
  code: ErrorCode;
  message: string;
  /** The input to blame; default phoneNumber, null = none (e.g. a per-API-key limit). */
  field?: string | null;
  /** Sent as Retry-After (seconds), e.g. with a 429 when the limit's window ends. */
  retryAfterSeconds?: number;
  /** Members added to the error body, e.g. rule, country, type. */
  details?: Readonly<Record<string, string | number | boolean>>;
}

/**
 * One creation-time check (number policy today; creation limits and flash-call checks join later).
 * `check` resolves undefined to let the creation go on, or a refusal to stop it.
 */
export interface CreationCheck {
  readonly name: string;
  check(req: CreationRequest, notes: CreationNotes): Promise<CreationRefusal | undefined>;
  /**
   * Called once the session exists (not on refusals, not on idempotent replays): where a check
   * counts what was actually created, so a refused creation counts against nothing.
   */
  created?(req: CreationRequest, notes: CreationNotes): void;
  /**
   * Called when this check let the creation go on but no session was stored after all (a later
   * check refused, the store failed, or it was an idempotent replay): where a check that counted
   * in `check` (a limit) gives the creation back. Must not throw.
   */
  released?(req: CreationRequest, notes: CreationNotes): Promise<void>;
}

/**
 * The checks a POST /v1/verifications passes, in order, before the session is stored. The first
 * refusal wins, so put cheap checks that need no shared state (number policy) before those that
 * count (limits): a number the policy refuses must not use up a limit.
 */
export class CreationChecks {
  private readonly checks: readonly CreationCheck[];

  constructor(checks: readonly CreationCheck[]) {
    this.checks = [...checks];
  }

  get names(): string[] {
    return this.checks.map((c) => c.name);
  }

  /** Resolves with the notes for the session, or throws the first refusal as an ApiRequestError. */
  async run(req: CreationRequest): Promise<CreationNotes> {
    const notes: CreationNotes = {};
    for (const [i, c] of this.checks.entries()) {
      const refusal = await c.check(req, notes);
      if (refusal) {
        await release(this.checks.slice(0, i), req, notes);
        const field = refusal.field === null ? undefined : refusal.field ?? 'phoneNumber';
        const err = new ApiRequestError(refusal.code, refusal.status, refusal.message, field, refusal.details);
        if (refusal.retryAfterSeconds !== undefined) err.retryAfterSeconds = refusal.retryAfterSeconds;
        throw err;
      }
    }
    return notes;
  }

  /** After run() passed but the session was not stored (store failure, idempotent replay). */
  async released(req: CreationRequest, notes: CreationNotes): Promise<void> {
    await release(this.checks, req, notes);
  }

  /** After the store created the session. */
  created(req: CreationRequest, notes: CreationNotes): void {
    for (const c of this.checks) c.created?.(req, notes);
  }
}

async function release(checks: readonly CreationCheck[], req: CreationRequest, notes: CreationNotes): Promise<void> {
  await Promise.all(checks.map((c) => c.released?.(req, notes)));
}
