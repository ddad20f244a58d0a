import type { CallLimitsConfig } from '../config/config-types.js';
import type { CallEvent } from '../edge/call-event.js';
import { runScript, type RedisClient } from '../verify/scripts/lua-script.js';
import { CALL_LIMIT_OUTCOMES, CALL_LIMITS, type CallLimitName, type CallLimitOutcome } from './call-limit-defaults.js';
import type { CallLimitMetrics } from './call-limit-metrics.js';
import { callLimitsScript } from './call-limit-script.js';

/** What the call worker asks before deciding a batch: which of these calls are over a limit. */
export interface CallLimits {
  /** The calls over a limit, each with the outcome naming it; empty when none (or limits are off). */
  over(events: readonly CallEvent[]): Promise<ReadonlyMap<CallEvent, CallLimitOutcome>>;
}

const NONE: ReadonlyMap<CallEvent, CallLimitOutcome> = new Map();

/** Calls per script run, as the decision script: bounds one run's time. */
const MAX_CALLS_PER_SCRIPT = 500;

/**
 * The call limits, in Redis and shared by every worker: one script run per batch (see
 * call-limit-script.ts) counts the batch's candidate calls and names the limit each is over.
 *
 * Why our own script rather than a limiter library: a library limiter (rate-limiter-flexible) runs
 * one script per key and call, i.e. 3 runs per candidate call, and has no distinct-count limit for
 * the DID sweep; this is one run per batch whatever its size, in the same round trip budget as the
 * decision script (figures in the commit that added it).
 */
export class RedisCallLimits implements CallLimits {
  private limits: CallLimitsConfig;
  private head: (string | number)[];

  constructor(
    private readonly redis: RedisClient,
    private readonly opts: { prefix: string; limits: CallLimitsConfig; metrics?: CallLimitMetrics; pendingKey: string },
  ) {
    this.limits = opts.limits;
    this.head = headOf(opts.prefix, opts.limits);
  }

  /** SIGHUP: `limits.calls` of a reloaded configuration, put in force by the returned function. */
  prepareReload(limits: CallLimitsConfig): () => void {
    const head = headOf(this.opts.prefix, limits);
    return () => {
      this.limits = limits;
      this.head = head;
    };
  }

  async over(events: readonly CallEvent[]): Promise<ReadonlyMap<CallEvent, CallLimitOutcome>> {
    if (!this.limits.enabled || events.length === 0) return NONE;
    const head = this.head;
    const out = new Map<CallEvent, CallLimitOutcome>();
    for (let start = 0; start < events.length; start += MAX_CALLS_PER_SCRIPT) {
      const chunk = events.slice(start, start + MAX_CALLS_PER_SCRIPT);
      const args = [...head, chunk.length];
      for (const e of chunk) args.push(e.cli ?? '', e.did ?? '', e.trunk, Math.floor(e.receivedAt));
      const reply = (await runScript(this.redis, callLimitsScript, [this.opts.pendingKey], args)) as number[];
      reply.forEach((r, k) => {
        const name = CALL_LIMITS[Number(r) - 1] as CallLimitName | undefined;
        if (name === undefined) return;
        out.set(chunk[k] as CallEvent, CALL_LIMIT_OUTCOMES[name]);
        this.opts.metrics?.limited.inc({ limit: name });
      });
    }
    return out;
  }
}

function headOf(prefix: string, limits: CallLimitsConfig): (string | number)[] {
  const head: (string | number)[] = [`${prefix}:lim:call:`];
  for (const name of CALL_LIMITS) head.push(limits[name].count, limits[name].windowSeconds * 1000);
  return head;
}
