import { createHash } from 'node:crypto';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../log/logger.js';
import type { AbuseWebhookEvent, DeliverableEvent } from '../verify/verification-types.js';
import type { AbuseEvent, AbuseEventSink } from './abuse-event.js';

/** Where the events go: the webhooks queue (WebhookQueue), whose workers sign and deliver them. */
export interface AbuseEventQueue {
  emit(event: DeliverableEvent, url: string): Promise<void>;
  close(): Promise<void>;
}

/** Stable per (type, subject, reason, time): an action re-emitted is deduped by the queue and by receivers. */
export function abuseEventId(e: AbuseEvent): string {
  return 'evt_' + createHash('sha1').update(`${e.type}:${e.subject.kind}:${e.subject.value}:${e.reason}:${e.at}`).digest('hex');
}

/** The webhook body of an abuse event. */
export function abuseWebhookEvent(e: AbuseEvent): AbuseWebhookEvent {
  return {
    id: abuseEventId(e),
    type: e.type,
    timestamp: new Date(e.at).toISOString(),
    data: {
      abuse: {
        subject: { ...e.subject },
        reason: e.reason,
        expiresAt: e.expiresAt === null ? null : new Date(e.expiresAt).toISOString(),
        ...(e.detail === undefined ? {} : { detail: { ...e.detail } }),
      },
    },
  };
}

function abuseEventMetrics(registry: Registry): Counter<'type' | 'reason' | 'result'> {
  const name = 'ringproof_abuse_events_total';
  return (registry.getSingleMetric(name) as Counter<'type' | 'reason' | 'result'> | undefined) ?? new Counter({
    name,
    help: 'Automatic abuse actions reported as abuse.* webhooks, by type, reason and result (queued, failed)',
    labelNames: ['type', 'reason', 'result'] as const,
    registers: [registry],
  });
}

/**
 * An AbuseEventSink that enqueues each event as a signed `abuse.*` webhook (Standard Webhooks, the
 * same queue, retries and dead letters as verification webhooks) for `abuse.webhookUrl`. emit()
 * returns at once; a failed enqueue is logged and counted, never thrown at the caller.
 */
export class WebhookAbuseEventSink implements AbuseEventSink {
  private readonly counter: Counter<'type' | 'reason' | 'result'>;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly opts: { queue: AbuseEventQueue; url: string; logger: Logger; registry: Registry }) {
    this.counter = abuseEventMetrics(opts.registry);
  }

  emit(event: AbuseEvent): void {
    const body = abuseWebhookEvent(event);
    const p = this.opts.queue.emit(body, this.opts.url).then(
      () => { this.counter.inc({ type: event.type, reason: event.reason, result: 'queued' }); },
      (err: Error) => {
        this.counter.inc({ type: event.type, reason: event.reason, result: 'failed' });
        this.opts.logger.warn({ err: err.message, eventId: body.id, type: event.type, reason: event.reason }, 'abuse webhook not queued');
      },
    ).finally(() => { this.inFlight.delete(p); });
    this.inFlight.add(p);
  }

  /** Waits for the enqueues in flight, then closes the queue. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    await this.opts.queue.close();
  }
}
