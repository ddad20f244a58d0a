import { request as httpRequest, type Agent, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { EgressPolicy, EgressRefusal, EgressRefusalReason } from '../egress/egress-policy.js';
import { isEgressRefusedError } from '../egress/egress-refused-error.js';
import { createGuardedAgent } from '../egress/guarded-agent.js';

/** The outcome of one HTTP attempt; never throws, so the caller decides retry vs dead-letter. */
export interface HttpAttempt {
  ok: boolean;
  /** HTTP status, absent when no response arrived (timeout, refused, bad URL). */
  status?: number;
  /** Why it failed, short and safe to log (no URL, no secrets). */
  error?: string;
  /** No retry can help (unparsable URL, unsupported scheme, refused destination). */
  permanent: boolean;
  /** Set when the egress guard refused the destination; nothing was sent. */
  refused?: EgressRefusalReason;
  /** Round trip until the response headers (or the failure). */
  seconds: number;
}

/** Bytes of an error response kept for the dead-letter record: enough to read "invalid signature". */
const ERROR_BODY_BYTES = 200;

export interface WebhookAgentsOptions {
  /** Which destinations may be reached (webhooks.allowPrivateTargets); checked on every connection. */
  policy: EgressPolicy;
  /** Resolver behind the guard; default dns.lookup (tests pass a local one). */
  resolve?: LookupFunction;
  /** Told of each refused destination (the metrics count it). */
  onRefused?: (refusal: EgressRefusal) => void;
  maxSockets?: number;
}

/**
 * Keep-alive connection pools for webhook POSTs, one per worker (closed with it). node:http with a
 * keep-alive Agent costs a fraction of the CPU of global fetch per request, and reusing the
 * connection saves a TCP (and TLS) handshake per webhook to the same receiver. Both agents are
 * egress-guarded: every new connection is checked against the address it actually goes to.
 */
export class WebhookAgents {
  readonly http: Agent;
  readonly https: Agent;

  constructor(opts: WebhookAgentsOptions) {
    const maxSockets = opts.maxSockets ?? 256;
    // Idle sockets are closed before a typical receiver's own keep-alive timeout (5 s in node:http),
    // so a request is rarely written to a socket the receiver is closing.
    const common = {
      keepAlive: true, keepAliveMsecs: 1000, maxSockets, maxFreeSockets: maxSockets, timeout: 4000,
      ...(opts.resolve !== undefined ? { resolve: opts.resolve } : {}),
      ...(opts.onRefused !== undefined ? { onRefused: opts.onRefused } : {}),
    };
    this.http = createGuardedAgent(opts.policy, common);
    this.https = createGuardedAgent(opts.policy, { ...common, secure: true });
  }

  destroy(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

function readSnippet(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = (): void => {
      res.removeAllListeners('data');
      res.destroy();
      const text = Buffer.concat(chunks).subarray(0, ERROR_BODY_BYTES).toString('utf8');
      // Control characters would garble logs and the CLI listing.
      resolve(text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim());
    };
    res.on('data', (c: Buffer) => {
      chunks.push(c);
      total += c.length;
      if (total >= ERROR_BODY_BYTES) done();
    });
    res.once('end', done);
    // A body that breaks off mid-way still leaves the status to report.
    res.once('error', done);
    res.once('aborted', done);
  });
}

class AttemptTimeout extends Error {}

/**
 * POSTs one webhook. Redirects are never followed: a 3xx could send the signed payload to another
 * host (the receiver is not trusted to pick where our data goes), so it counts as a failure.
 * `timeoutMs` bounds the whole attempt: connect, response headers and the error body.
 */
export async function postWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  agents: WebhookAgents,
): Promise<HttpAttempt> {
  const started = performance.now();
  const elapsed = (): number => (performance.now() - started) / 1000;
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { ok: false, error: 'invalid callback URL', permanent: true, seconds: 0 };
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    return { ok: false, error: `unsupported URL scheme ${target.protocol}`, permanent: true, seconds: 0 };
  }
  const secure = target.protocol === 'https:';
  const request = secure ? httpsRequest : httpRequest;
  const agent = secure ? agents.https : agents.http;
  const payload = Buffer.from(body, 'utf8');

  return new Promise<HttpAttempt>((resolve) => {
    let settled = false;
    const finish = (a: HttpAttempt): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(a);
    };
    const req = request(target, {
      method: 'POST',
      agent,
      headers: { ...headers, 'content-length': String(payload.length) },
    });
    const timer = setTimeout(() => req.destroy(new AttemptTimeout()), timeoutMs);
    req.once('error', (err: Error & { code?: string }) => {
      if (isEgressRefusedError(err)) {
        // Names host, address and class: the operator must see why, and none of it is secret.
        finish({ ok: false, error: err.message, permanent: true, refused: err.refusal.reason, seconds: elapsed() });
        return;
      }
      // The code only: node's messages name the address, and these errors are logged.
      const error = err instanceof AttemptTimeout
        ? `timeout after ${timeoutMs} ms`
        : `request failed: ${err.code ?? err.message}`;
      finish({ ok: false, error, permanent: false, seconds: elapsed() });
    });
    req.once('response', (res) => {
      const status = res.statusCode ?? 0;
      const seconds = elapsed();
      if (status >= 200 && status < 300) {
        // The body is irrelevant; draining it returns the socket to the pool.
        res.resume();
        res.once('error', () => undefined);
        finish({ ok: true, status, permanent: false, seconds });
        return;
      }
      if (status >= 300 && status < 400) {
        res.resume();
        res.once('error', () => undefined);
        finish({ ok: false, status, error: `HTTP ${status} (redirect not followed)`, permanent: false, seconds });
        return;
      }
      void readSnippet(res).then((snippet) => {
        finish({ ok: false, status, error: snippet ? `HTTP ${status}: ${snippet}` : `HTTP ${status}`, permanent: false, seconds });
      });
    });
    req.end(payload);
  });
}
