import { ErrorCodes } from '../../errors/codes.js';
import { RingproofError } from '../../errors/ringproof-error.js';
import { mayFailOver } from './failure-class.js';
import type { FlashCallRequest, FlashCallResult, TrunkAttempt } from './flash-call-types.js';
import type { TrunkGate } from './trunk-gate.js';

/** What the UAC reports for metrics: per-trunk attempts and gate refusals. */
export interface UacObserver {
  attempt(a: TrunkAttempt): void;
  refused(trunk: string, why: 'cps' | 'concurrency'): void;
}

/** One engine's way of placing a call on one trunk; `sent` goes off as the INVITE leaves. */
export type RunOnTrunk = (trunk: string, cli: string, sent: () => void) => Promise<TrunkAttempt>;

/**
 * The failover loop both engines' UACs share: the request's trunks in order, each through its gate
 * (CPS and concurrency caps), with the caller ID the request gives for that trunk; the next trunk only
 * when this one, not the user, failed. Unknown trunk names are refused before anything is sent.
 */
export async function placeWithFailover(
  req: FlashCallRequest,
  gates: ReadonlyMap<string, TrunkGate>,
  run: RunOnTrunk,
  observer: UacObserver | undefined,
): Promise<FlashCallResult> {
  const unknown = req.trunks.find((n) => !gates.has(n));
  if (unknown !== undefined || req.trunks.length === 0) {
    throw new RingproofError(ErrorCodes.FLASH_TRUNK_UNKNOWN, `no outbound trunk named ${JSON.stringify(unknown ?? '')}`);
  }
  const attempts: TrunkAttempt[] = [];
  let last: TrunkAttempt | undefined;
  let lastTrunk: string | undefined;
  for (const name of req.trunks) {
    const gate = gates.get(name) as TrunkGate;
    lastTrunk = name;
    const cli = typeof req.cli === 'string' ? req.cli : req.cli(name);
    if (cli === undefined) {
      last = undefined;
      continue;
    }
    const admitted = await gate.acquire();
    if (typeof admitted === 'string') {
      observer?.refused(name, admitted);
      last = undefined;
      continue;
    }
    let attempt: TrunkAttempt;
    try {
      attempt = await run(name, cli, admitted.sent);
    } finally {
      gate.release(admitted);
    }
    observer?.attempt(attempt);
    attempts.push(attempt);
    last = attempt;
    if (attempt.outcome !== 'failed' || !mayFailOver(attempt.finalStatus, attempt.failureClass ?? 'rejected')) break;
  }
  return {
    outcome: last?.outcome ?? 'failed',
    failureClass: last === undefined ? 'capacity' : last.failureClass,
    trunk: last?.trunk ?? lastTrunk,
    cli: last?.cli,
    cancelConfirmed: last !== undefined && last.cancelSent && last.finalStatus === 487,
    attempts,
  };
}
