import type { Counter } from 'prom-client';
import type { HistogramSlot } from './hot-histogram.js';
import { methodLabel, type Metrics } from './metrics.js';
import { CountBatch, type PendingCount } from './count-batch.js';
import type { DropReason } from '../sip/contract/index.js';

/**
 * The SIP counters on the per-message path. Each label combination is resolved once to a
 * PendingCount (a plain number flushed into prom-client when metrics are read); the caches are
 * keyed level by level by the label strings, so a hit builds no string per call.
 */
export class SipCounters {
  private readonly batch: CountBatch;
  /** transport → trunk → method → count. */
  private readonly requests = new Map<string, Map<string, Map<string, PendingCount>>>();
  /** transport → counts indexed by status code. */
  private readonly responses = new Map<string, PendingCount[]>();
  private readonly drops = new Map<string, Map<string, PendingCount>>();
  private readonly retrans = new Map<string, Map<string, PendingCount>>();
  private readonly finalTimers = new Map<string, HistogramSlot>();
  /** The slots of the last transport (and trunk) counted: one Map lookup per count instead of three. */
  private lastTransport = '';
  private lastTrunk = '';
  private lastByMethod: Map<string, PendingCount> | undefined;
  private lastCodeTransport = '';
  private lastByCode: PendingCount[] | undefined;
  private lastTimerTransport = '';
  private lastTimer: HistogramSlot | undefined;

  constructor(private readonly m: Metrics) {
    this.batch = new CountBatch(m);
  }

  request(method: string, transport: string, trunk: string): void {
    // Calls come by one transport from one trunk, over and over: the last pair's slots first.
    let byMethod = this.lastByMethod;
    if (transport !== this.lastTransport || trunk !== this.lastTrunk || byMethod === undefined) {
      let byTrunk = this.requests.get(transport);
      if (byTrunk === undefined) this.requests.set(transport, (byTrunk = new Map()));
      byMethod = byTrunk.get(trunk);
      if (byMethod === undefined) byTrunk.set(trunk, (byMethod = new Map()));
      this.lastTransport = transport;
      this.lastTrunk = trunk;
      this.lastByMethod = byMethod;
    }
    let c = byMethod.get(method);
    if (c === undefined) {
      const label = methodLabel(method);
      // Unknown methods share the "other" slot; do not grow the map with attacker strings.
      c = label === method ? undefined : byMethod.get(label);
      if (c === undefined) {
        c = this.batch.track(this.m.sipRequests.labels(label, transport, trunk));
        byMethod.set(label, c);
      }
    }
    c.n++;
  }

  response(code: number, transport: string): void {
    let byCode = this.lastByCode;
    if (transport !== this.lastCodeTransport || byCode === undefined) {
      byCode = this.responses.get(transport);
      if (byCode === undefined) this.responses.set(transport, (byCode = []));
      this.lastCodeTransport = transport;
      this.lastByCode = byCode;
    }
    const i = code >= 100 && code < 700 ? code : 0;
    let c = byCode[i];
    if (c === undefined) {
      c = this.batch.track(this.m.sipResponses.labels(String(code), transport));
      if (i !== 0) byCode[i] = c;
    }
    c.n++;
  }

  drop(reason: DropReason, transport: string): void {
    this.slot(this.drops, this.m.sipDrops, reason, transport).n++;
  }

  retransmission(kind: string, transport: string): void {
    this.slot(this.retrans, this.m.sipRetransmissions, kind, transport).n++;
  }

  inviteToFinal(seconds: number, transport: string): void {
    let h = transport === this.lastTimerTransport ? this.lastTimer : undefined;
    if (h === undefined) {
      h = this.finalTimers.get(transport);
      if (!h) {
        h = this.m.inviteToFinal.labels(transport);
        this.finalTimers.set(transport, h);
      }
      this.lastTimerTransport = transport;
      this.lastTimer = h;
    }
    h.observe(seconds);
  }

  /** Adds pending counts to prom-client now (reads do this themselves). */
  flush(): void {
    this.batch.flush();
  }

  /** Labels are (first, transport); both come from small fixed sets of constants. */
  private slot(cache: Map<string, Map<string, PendingCount>>, counter: Counter<string>, first: string, transport: string): PendingCount {
    let byFirst = cache.get(transport);
    if (byFirst === undefined) cache.set(transport, (byFirst = new Map()));
    let c = byFirst.get(first);
    if (c === undefined) {
      c = this.batch.track(counter.labels(first, transport));
      byFirst.set(first, c);
    }
    return c;
  }
}
