import type { LookupFunction } from 'node:net';
import type { EgressPolicy } from '../egress/egress-policy.js';
import { signedRequest } from './signed-request.js';
import type { Logger } from '../log/logger.js';
import type { WebhookEmitter, WebhookEvent } from '../verify/verification-types.js';
import { postWebhook, WebhookAgents } from './webhook-http.js';
import { statusClass, type WebhookMetrics } from './webhook-metrics.js';
import type { WebhookSigner } from './sign.js';

/** First-attempt timeout: a healthy receiver answers in milliseconds; a slow one goes to the queue. */
export const DIRECT_ATTEMPT_TIMEOUT_MS = 1000;
/** After a failed direct attempt, events for that URL skip straight to the queue for this long. */
export const DIRECT_BYPASS_MS = 5000;
/** URLs remembered as failing; callbackUrls are per session, so the map must stay bounded. */
const MAX_BYPASSED_URLS = 1000;

export interface DirectFirstEmitterOptions {
  /** Where an event goes when the direct attempt fails or is skipped: the webhooks queue (retries, dead letters). */
  fallback: WebhookEmitter;
  signer: WebhookSigner;
  /** Which destinations deliveries may reach (webhookEgressPolicy(config.webhooks)). */
  egressPolicy: EgressPolicy;
  /** Resolver behind the egress guard; default dns.lookup (tests pass a local one). */
  resolve?: LookupFunction;
  /** Shared with the webhook workers (createWebhookMetrics on the same registry). */
  metrics: WebhookMetrics;
  /** ringproof's version, sent as `User-Agent: ringproof/<version>`. */
  version: string;
  /** Capped by webhooks.timeoutMs; default DIRECT_ATTEMPT_TIMEOUT_MS. */
  timeoutMs?: number;
  bypassMs?: number;
  /** Told the event id after each 2xx, so a retry of the emitting job can skip a second POST. */
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
 * A failing URL is bypassed for a while, so a hanging receiver costs the worker one timeout per
 * bypass period instead of one per event.
 */
export class DirectFirstEmitter implements WebhookEmitter {
  private readonly agents: WebhookAgents;
  private readonly bypassUntil = new Map<string, number>();
  private readonly userAgent: string;
  private readonly timeoutMs: number;
  private readonly bypassMs: number;
  private readonly clock: () => number;

  constructor(private readonly opts: DirectFirstEmitterOptions) {
    this.userAgent = `ringproof/${opts.version}`;
    this.timeoutMs = opts.timeoutMs ?? DIRECT_ATTEMPT_TIMEOUT_MS;
    this.bypassMs = opts.bypassMs ?? DIRECT_BYPASS_MS;
    this.clock = opts.clock ?? Date.now;
    this.agents = new WebhookAgents({
      policy: opts.egressPolicy,
      onRefused: opts.metrics.refusedAtConnect,
      ...(opts.resolve !== undefined ? { resolve: opts.resolve } : {}),
    });
  }

  async emit(event: WebhookEvent, url: string): Promise<void> {
    if (!this.bypassed(url) && (await this.attempt(event, url))) return;
    await this.opts.fallback.emit(event, url);
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
      this.opts.onDelivered?.(event.id);
      return true;
    }
    this.bypass(url);
    metrics.deliveries.inc({ type: event.type, result: 'retry' });
    this.opts.logger?.info({ eventId: event.id, type: event.type, error: res.error }, 'direct webhook attempt failed, queued for retry');
    return false;
  }
}
