import { request as httpRequest, type Agent } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { CarrierLookupConfig } from '../config/config-types.js';
import { LruCache } from '../edge/lru-cache.js';
import { createEgressPolicy, type EgressPolicy } from '../egress/egress-policy.js';
import { isEgressRefusedError } from '../egress/egress-refused-error.js';
import { createGuardedAgent } from '../egress/guarded-agent.js';
import { MAX_LOOKUP_BODY_BYTES, parseLookupResponse } from './carrier-lookup-response.js';
import type { CarrierLookupFailure, NumberType } from './number-types.js';

/** The configuration key that allows private lookup destinations; refusal messages name it. */
export const CARRIER_LOOKUP_EGRESS_KEY = 'numbers.carrierLookup.allowPrivateTargets';

/** The lookup's own egress policy (not the webhooks'): a lookup server is not an app's receiver. */
export function carrierLookupEgressPolicy(c: Pick<CarrierLookupConfig, 'allowPrivateTargets'>): EgressPolicy {
  return createEgressPolicy({ allowPrivateTargets: c.allowPrivateTargets, configKey: CARRIER_LOOKUP_EGRESS_KEY });
}

/** An answer (`type`, possibly `unknown`: the provider does not know the number) or why there is none. */
export type CarrierAnswer =
  | { ok: true; type: NumberType; cached: boolean }
  | { ok: false; failure: CarrierLookupFailure; detail: string };

export interface CarrierLookupOptions {
  config: CarrierLookupConfig & { url: string };
  /** Told of every request made (not cache hits): the outcome label and its seconds. */
  onRequest?: (result: 'ok' | 'unknown' | CarrierLookupFailure, seconds: number) => void;
  /** Resolver behind the egress guard; default dns.lookup. */
  resolve?: LookupFunction;
  clock?: () => number;
}

interface CacheEntry {
  type: NumberType;
  expiresAt: number;
}

/**
 * The carrier (line-type) lookup: one small JSON POST per number, answers kept in a bounded
 * LRU cache with a TTL, concurrent asks for one number sharing one request. Never throws: a slow,
 * failing or nonsensical server is a failure the caller maps to numbers.carrierLookup.onError.
 */
export class CarrierLookup {
  private readonly url: URL;
  private readonly agent: Agent;
  private readonly request: typeof httpRequest;
  private readonly cache: LruCache<string, CacheEntry> | undefined;
  private readonly inflight = new Map<string, Promise<CarrierAnswer>>();
  private readonly clock: () => number;
  private readonly ttlMs: number;

  constructor(private readonly opts: CarrierLookupOptions) {
    const c = opts.config;
    this.url = new URL(c.url);
    const secure = this.url.protocol === 'https:';
    this.request = secure ? httpsRequest : httpRequest;
    this.agent = createGuardedAgent(carrierLookupEgressPolicy(c), {
      secure, keepAlive: true, maxSockets: 64,
      ...(opts.resolve !== undefined ? { resolve: opts.resolve } : {}),
    });
    this.ttlMs = c.cacheTtlSeconds * 1000;
    this.cache = c.cacheSize > 0 && c.cacheTtlSeconds > 0 ? new LruCache(c.cacheSize) : undefined;
    this.clock = opts.clock ?? Date.now;
  }

  async lookup(e164: string): Promise<CarrierAnswer> {
    const hit = this.cache?.get(e164);
    if (hit !== undefined && this.clock() < hit.expiresAt) return { ok: true, type: hit.type, cached: true };
    const pending = this.inflight.get(e164);
    if (pending !== undefined) return pending;
    const load = this.ask(e164).finally(() => this.inflight.delete(e164));
    this.inflight.set(e164, load);
    return load;
  }

  close(): void {
    this.agent.destroy();
  }

  private async ask(e164: string): Promise<CarrierAnswer> {
    const started = performance.now();
    const answer = await this.post(e164);
    const result = answer.ok ? (answer.type === 'unknown' ? 'unknown' : 'ok') : answer.failure;
    this.opts.onRequest?.(result, (performance.now() - started) / 1000);
    // Failures are not cached: the next creation asks again (the server may be back).
    if (answer.ok && this.cache) this.cache.set(e164, { type: answer.type, expiresAt: this.clock() + this.ttlMs });
    return answer;
  }

  /** One POST; the timeout bounds connect, response and body together. Redirects are failures. */
  private post(e164: string): Promise<CarrierAnswer> {
    const payload = Buffer.from(JSON.stringify({ phoneNumber: e164 }), 'utf8');
    const { timeoutMs, headers } = this.opts.config;
    return new Promise((resolve) => {
      let settled = false;
      const finish = (a: CarrierAnswer): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(a);
      };
      const fail = (failure: CarrierLookupFailure, detail: string): void => finish({ ok: false, failure, detail });
      const req = this.request(this.url, {
        method: 'POST',
        agent: this.agent,
        headers: { ...headers, 'content-type': 'application/json', accept: 'application/json', 'content-length': String(payload.length) },
      });
      // Settled first, so whatever error the destroyed socket reports next is ignored.
      const timer = setTimeout(() => {
        fail('timeout', `no answer within ${timeoutMs} ms`);
        req.destroy();
      }, timeoutMs);
      req.once('error', (err: Error & { code?: string }) => {
        if (isEgressRefusedError(err)) fail('egress_refused', err.message);
        // The code only: node's messages name addresses, and this detail is logged.
        else fail('connect_error', err.code ?? err.name);
      });
      req.once('response', (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          fail('http_error', `HTTP ${res.statusCode ?? 0}`);
          return;
        }
        const chunks: Buffer[] = [];
        let total = 0;
        res.on('data', (chunk: Buffer) => {
          total += chunk.length;
          if (total > MAX_LOOKUP_BODY_BYTES) {
            fail('bad_response', `body over ${MAX_LOOKUP_BODY_BYTES} bytes`);
            res.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.once('end', () => {
          const type = parseLookupResponse(Buffer.concat(chunks).toString('utf8'));
          if (type === undefined) fail('bad_response', 'not a JSON object with a known "type"');
          else finish({ ok: true, type, cached: false });
        });
        // A body cut off mid-way by the server.
        res.once('error', () => fail('bad_response', 'response body broke off'));
        res.once('aborted', () => fail('bad_response', 'response body broke off'));
      });
      req.end(payload);
    });
  }
}
