import type { LookupFunction } from 'node:net';
import type { EgressPolicy } from '../egress/egress-policy.js';
import { signedRequest } from './signed-request.js';
import type { Logger } from '../log/logger.js';
import type { WebhookEmitter, WebhookEvent } from '../verify/verification-types.js';
import { postWebhook, WebhookAgents } from './webhook-http.js';
import { statusClass, type WebhookMetrics } from './webhook-metrics.js';
import type { WebhookSigner } from './sign.js';

/**
 * How long the emitting worker waits for the direct attempt's answer: a healthy receiver answers in
 * milliseconds; a slower one is handed to the queue (see DirectFirstEmitter) so the batch job moves on.
 */
export const DIRECT_ATTEMPT_WAIT_MS = 1000;
/** After a failed or slow direct attempt, events for that URL skip straight to the queue for this long. */
export const DIRECT_BYPASS_MS = 5000;
/**
 * A handed-over event's queued job is due this long after the direct attempt's own timeout, so a 2xx
 * that comes at the last moment still withdraws it before a webhook worker takes it.
 */
export const HANDOVER_MARGIN_MS = 1000;
/** URLs remembered as failing; callbackUrls are per session, so the map must stay bounded. */
const MAX_BYPASSED_URLS = 1000;

/** The queue side of the direct emitter (WebhookQueue): retries, dead letters, and the handover of slow attempts. */
export interface WebhookFallback extends WebhookEmitter {
  /** Queues the event to be POSTed no sooner than `delayMs` from now. */
  emitLater(event: WebhookEvent, url: string, delayMs: number): Promise<void>;
  /** Takes a queued event back if no webhook worker has started it; true when it was withdrawn. */
  withdraw(eventId: string): Promise<boolean>;
}

export interface DirectFirstEmitterOptions {
  /** Where an event goes when the direct attempt fails, is slow or is skipped: the webhooks queue. */
  fallback: WebhookFallback;
  signer: WebhookSigner;
  /** Which destinations deliveries may reach (webhookEgressPolicy(config.webhooks)). */
  egressPolicy: EgressPolicy;
  /** Resolver behind the egress guard; default dns.lookup (tests pass a local one). */
  resolve?: LookupFunction;
  /** Shared with the webhook workers (createWebhookMetrics on the same registry). */
  metrics: WebhookMetrics;
  /** ringproof's version, sent as `User-Agent: ringproof/<version>`. */
  version: string;
  /** The direct attempt's whole timeout, as for a queued attempt (webhooks.timeoutMs). */
  timeoutMs: number;
  /** How long emit() waits for the answer before handing the event over; default DIRECT_ATTEMPT_WAIT_MS. */
  waitMs?: number;
  bypassMs?: number;
  /** Told the event id after each 2xx that emit() waited for, so a retry of the emitting job can skip a second POST. */
  onDelivered?: (eventId: string) => void;
  logger?: Logger;
  clock?: () => number;
}

/**
 * Delivers an event with one direct signed POST from the emitting worker, and hands it to the
 * webhooks queue only when that fails. A queued job costs several Redis round trips (add, fetch,
 * complete) and a wait for a free webhook worker before the POST; on the common path (receiver up)
 * this saves all of them. The event id, body and signing are the webhook worker's, so a receiver
 * cannot tell the paths apart and dedupes a re-POST by `webhook-id` either way.
 *
 * A slow receiver is not given up on: when no answer came within `waitMs`, the event is queued as a
 * job due only after the attempt's own timeout (plus HANDOVER_MARGIN_MS), emit() resolves, and the
 * request goes on; a 2xx that still comes withdraws the job. So, as for every queued attempt, an
 * event is POSTed again only when its receiver did not acknowledge it within `timeoutMs` (cutting
 * the attempt at `waitMs` and queueing it at once made a slow receiver get every event twice, e.g.
 * the backlog of webhooks after a Redis failover on a loaded machine).
 *
 * A failing or slow URL is bypassed for a while, so a hanging receiver costs the worker one wait per
 * bypass period instead of one per event.
 */
export class DirectFirstEmitter implements WebhookEmitter {
  private readonly agents: WebhookAgents;
  private readonly bypassUntil = new Map<string, number>();
  private readonly userAgent: string;
  private readonly timeoutMs: number;
  private readonly waitMs: number;
  private readonly bypassMs: number;
  private readonly clock: () => number;

  constructor(private readonly opts: DirectFirstEmitterOptions) {
    this.userAgent = `ringproof/${opts.version}`;
    this.timeoutMs = opts.timeoutMs;
    this.waitMs = Math.min(opts.waitMs ?? DIRECT_ATTEMPT_WAIT_MS, this.timeoutMs);
    this.bypassMs = opts.bypassMs ?? DIRECT_BYPASS_MS;
    this.clock = opts.clock ?? Date.now;
    this.agents = new WebhookAgents({
      policy: opts.egressPolicy,
      onRefused: opts.metrics.refusedAtConnect,
      ...(opts.resolve !== undefined ? { resolve: opts.resolve } : {}),
    });
  }

  async emit(event: WebhookEvent, url: string): Promise<void> {
    const { fallback } = this.opts;
    if (this.bypassed(url)) return fallback.emit(event, url);
    const attempt = this.attempt(event, url);
    const answered = this.waitMs < this.timeoutMs ? await this.within(attempt, this.waitMs) : await attempt;
    if (answered === true) return this.delivered(event);
    if (answered === false) return fallback.emit(event, url);
    // No answer yet: the queue takes the event, due when the attempt can no longer succeed.
    this.bypass(url);
    try {
      await fallback.emitLater(event, url, this.timeoutMs - this.waitMs + HANDOVER_MARGIN_MS);
    } catch (err) {
      // Not queued (Redis down): the attempt is all there is, so wait for it after all.
      if (await attempt) return this.delivered(event);
      throw err;
    }
    this.opts.logger?.info({ eventId: event.id, type: event.type, waitMs: this.waitMs }, 'direct webhook attempt slow, handed to the queue (withdrawn if it succeeds)');
    void attempt.then(async (ok) => {
      if (ok) await fallback.withdraw(event.id);
    }).catch((err: unknown) => {
      // Left in the queue, the event is POSTed again with the same webhook-id: receivers dedupe it.
      this.opts.logger?.warn({ eventId: event.id, err: (err as Error).message }, 'direct webhook answered late, but its queued copy could not be withdrawn');
    });
  }

  /** Closes the keep-alive sockets; the fallback is closed by its owner. */
  close(): void {
    this.agents.destroy();
  }

  private bypassed(url: string): boolean {
    const until = this.bypassUntil.get(url);
    if (until === undefined) return false;
    if (until > this.clock()) return true;
    this.bypassUntil.delete(url);
    return false;
  }

  private bypass(url: string): void {
    this.bypassUntil.delete(url);
    if (this.bypassUntil.size >= MAX_BYPASSED_URLS) {
      const oldest = this.bypassUntil.keys().next();
      if (!oldest.done) this.bypassUntil.delete(oldest.value);
    }
    this.bypassUntil.set(url, this.clock() + this.bypassMs);
  }

  /** The attempt's result, or 'slow' when it has none after `ms`. */
  private async within(attempt: Promise<boolean>, ms: number): Promise<boolean | 'slow'> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([attempt, new Promise<'slow'>((r) => { timer = setTimeout(r, ms, 'slow'); })]);
    } finally {
      clearTimeout(timer);
    }
  }

  private delivered(event: WebhookEvent): void {
    this.opts.onDelivered?.(event.id);
  }

  /** True on 2xx. Never throws: any failure leaves the event to the queue. */
  private async attempt(event: WebhookEvent, url: string): Promise<boolean> {
    const { metrics } = this.opts;
    const { body, headers } = signedRequest(this.opts.signer, this.userAgent, event);
    const res = await postWebhook(url, body, headers, this.timeoutMs, this.agents);
    // A permanent failure (bad URL, refused destination) is the queue's to dead-letter; nothing was
    // sent. The queue's attempt is refused again and recorded with the reason.
    if (res.permanent) return false;
    metrics.deliverySeconds.observe({ status_class: statusClass(res.status) }, res.seconds);
    if (res.ok) {
      metrics.deliveries.inc({ type: event.type, result: 'success' });
      const callAt = event.data.verification.callReceivedAt;
      if (event.type === 'verification.verified' && typeof callAt === 'number') {
        // Wall clock, as in WebhookWorker: callReceivedAt was stamped by another process.
        metrics.inviteToWebhook.observe(Math.max(0, (Date.now() - callAt) / 1000));
      }
      return true;
    }
    this.bypass(url);
    metrics.deliveries.inc({ type: event.type, result: 'retry' });
    this.opts.logger?.info({ eventId: event.id, type: event.type, error: res.error }, 'direct webhook attempt failed, queued for retry');
    return false;
  }
}
