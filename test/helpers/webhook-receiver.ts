import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the receiver saw it. */
export interface ReceivedWebhook {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Raw body text, exactly the bytes that were signed. */
  body: string;
  /** Date.now() when the body was complete. */
  receivedAt: number;
  /** The status the receiver answered with. */
  status: number;
}

export interface WebhookReceiverOptions {
  /** Answer the first N requests with `failStatus` (default 500). */
  failFirst?: number;
  failStatus?: number;
  /** Status for the other requests (default 200). A 3xx with `headers.location` makes a redirect. */
  status?: number;
  /** Extra response headers, e.g. { location: 'http://127.0.0.1:1/elsewhere' }. */
  headers?: Record<string, string>;
  /** Wait this long before answering (to exercise timeouts and latency). */
  delayMs?: number;
  /** Wait this long before answering the first request only (a receiver slow once). */
  delayFirstMs?: number;
  /** The loopback address to listen on (default 127.0.0.1; all of 127.0.0.0/8 is local on Linux). */
  host?: string;
}

export interface WebhookReceiver {
  /** http://<host>:<port>/webhook */
  url: string;
  port: number;
  received: ReceivedWebhook[];
  /** Resolves with `received` once it holds at least n requests; rejects after timeoutMs. */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

/** A real HTTP server on loopback (random port) that records webhooks and answers as told. */
export async function startWebhookReceiver(opts: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const host = opts.host ?? '127.0.0.1';
  const received: ReceivedWebhook[] = [];
  const waiters = new Set<() => void>();
  let count = 0;
  const server = createServer((req, res) => {
    const n = count++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = n < (opts.failFirst ?? 0) ? (opts.failStatus ?? 500) : (opts.status ?? 200);
      received.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now(),
        status,
      });
      for (const w of waiters) w();
      const answer = (): void => {
        res.writeHead(status, { 'content-type': 'text/plain', ...opts.headers });
        res.end(status >= 200 && status < 300 ? 'ok' : `status ${status}`);
      };
      const delay = n === 0 && opts.delayFirstMs !== undefined ? opts.delayFirstMs : opts.delayMs;
      if (delay) setTimeout(answer, delay);
      else answer();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://${host}:${port}/webhook`,
    port,
    received,
    waitFor(n, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (received.length >= n) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(received);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`webhook receiver: expected ${n} requests within ${timeoutMs} ms, got ${received.length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
